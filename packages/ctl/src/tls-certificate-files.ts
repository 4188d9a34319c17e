import { chmod, writeFile } from 'node:fs/promises';

export interface CertificateRequest {
  type: 'client' | 'server';
  /** Omitted: core's default (none for client, localhost names for server). */
  hostname?: string[];
  certFile: string;
  keyFile: string;
}

/** Generates a certificate with core's generator and writes it; the key file is readable by its owner only. */
export async function writeCertificateFiles(request: CertificateRequest): Promise<void> {
  // Core's TLS part only, on demand: its main entry point brings in the server stack (SQLite,
  // fastify, gRPC), which no meshctl command needs, and the packed meshctl bundles only this.
  const { generateCertificate } = await import('@meshauth/core/tls');
  const { certPem, keyPem } = await generateCertificate({
    type: request.type,
    ...(request.hostname !== undefined ? { hostnames: request.hostname } : {}),
  });
  await writeFile(request.certFile, certPem, { mode: 0o644 });
  await writeFile(request.keyFile, keyPem, { mode: 0o600 });
  await chmod(request.keyFile, 0o600); // an existing file keeps its old mode otherwise
}
