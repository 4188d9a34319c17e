export {
  generateCertificate,
  type CertificateType,
  type GenerateCertificateOptions,
} from './certificate.js';
export {
  generateCertificateAuthority,
  type CertificateAndKey,
  type GenerateCertificateAuthorityOptions,
} from './certificate-authority.js';
export { serverTlsPolicy } from './server-tls-policy.js';
