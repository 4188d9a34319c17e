import type { SigningKey } from './signing-key.js';

/**
 * The signing keys of one token family, in memory. The highest serial with a private key signs;
 * every key present verifies the tokens whose `kid` names its serial (kid is in the token so we
 * never try every key).
 */
export class KeyRing {
  private readonly keys = new Map<number, SigningKey>();
  private signerSerial: number | undefined;
  private highestEver = 0;

  get(serial: number): SigningKey | undefined {
    return this.keys.get(serial);
  }

  get size(): number {
    return this.keys.size;
  }

  list(): SigningKey[] {
    return [...this.keys.values()].sort((a, b) => a.serial - b.serial);
  }

  /** The highest serial this ring has held, including keys since removed. */
  get highestSerialEver(): number {
    return this.highestEver;
  }

  /** Raises highestSerialEver (from what the store remembers of removed keys). */
  rememberSerial(serial: number): void {
    if (serial > this.highestEver) this.highestEver = serial;
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
    this.keys.delete(serial);
    this.pickSigner();
  }

  replaceAll(keys: SigningKey[]): void {
    this.keys.clear();
    for (const key of keys) this.keys.set(key.serial, key);
    this.pickSigner();
  }

  private pickSigner(): void {
    this.signerSerial = undefined;
    for (const key of this.keys.values()) {
      this.rememberSerial(key.serial);
      if (key.privateKey && (this.signerSerial === undefined || key.serial > this.signerSerial)) this.signerSerial = key.serial;
    }
  }
}
