import type { SigningKey } from './signing-key.js';

/**
 * The signing keys of one token family, in memory. The highest serial with a private key signs;
 * every key present verifies the tokens whose `kid` names its serial (kid is in the token so we
 * never try every key).
 */
export class KeyRing {
  private readonly keys = new Map<number, SigningKey>();
  private signerSerial: number | undefined;
  /** Serials of keys removed here: a token naming one was "rotated out", any other missing kid is unknown. */
  private readonly removed = new Set<number>();

  get(serial: number): SigningKey | undefined {
    return this.keys.get(serial);
  }

  get size(): number {
    return this.keys.size;
  }

  list(): SigningKey[] {
    return [...this.keys.values()].sort((a, b) => a.serial - b.serial);
  }

  /** Whether a key with this serial was held here and then removed (a key held now is not "removed"). */
  wasRemoved(serial: number): boolean {
    return !this.keys.has(serial) && this.removed.has(serial);
  }

  /** Records serials the store remembers as removed (keys removed before this process loaded). */
  rememberRemoved(serials: Iterable<number>): void {
    for (const serial of serials) this.removed.add(serial);
  }

  /** The key new tokens are signed with, if this ring holds any private key. */
  get signer(): SigningKey | undefined {
    return this.signerSerial === undefined ? undefined : this.keys.get(this.signerSerial);
  }

  set(key: SigningKey): void {
    this.keys.set(key.serial, key);
    this.pickSigner();
  }

  delete(serial: number): void {
    if (this.keys.delete(serial)) this.removed.add(serial);
    this.pickSigner();
  }

  /** A key held before and not among `keys` counts as removed. */
  replaceAll(keys: SigningKey[]): void {
    const kept = new Set(keys.map((k) => k.serial));
    for (const serial of this.keys.keys()) if (!kept.has(serial)) this.removed.add(serial);
    this.keys.clear();
    for (const key of keys) this.keys.set(key.serial, key);
    this.pickSigner();
  }

  private pickSigner(): void {
    this.signerSerial = undefined;
    for (const key of this.keys.values()) {
      if (key.privateKey && (this.signerSerial === undefined || key.serial > this.signerSerial)) this.signerSerial = key.serial;
    }
  }
}
