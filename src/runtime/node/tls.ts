import { createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ConfigError } from '../../core/config.ts';

/** The certificate and key `node:https` serves with: PEM text. */
export interface TlsFiles {
  cert: Buffer;
  key: Buffer;
}

/**
 * Reads TLS_CERT and TLS_KEY and checks that they are a certificate and its own private key, so a
 * wrong path, swapped files or the key of another certificate stop the server at start with the
 * variable named, not at every client's handshake. Checked with `node:crypto` rather than
 * `tls.createSecureContext`, which does not check the pair on Deno.
 */
export function readTlsFiles(tls: { certFile: string; keyFile: string }): TlsFiles {
  const certName = `TLS_CERT=${JSON.stringify(tls.certFile)}`;
  const keyName = `TLS_KEY=${JSON.stringify(tls.keyFile)}`;
  const cert = readPem(certName, tls.certFile);
  const key = readPem(keyName, tls.keyFile);
  // The first certificate of the file is the server's own; the CA certificates may follow it.
  const leaf = parse(() => new X509Certificate(cert), `${certName}: not a PEM certificate`, 'give the server certificate');
  const privateKey: KeyObject = parse(
    () => createPrivateKey(key),
    `${keyName}: not a PEM private key without a passphrase`,
    'remove a passphrase with: openssl pkey -in encrypted.key -out server.key',
  );
  if (!leaf.checkPrivateKey(privateKey)) {
    throw new ConfigError(`${keyName} is not the private key of the certificate in ${certName}: give the key it was made with`);
  }
  return { cert, key };
}

function readPem(name: string, path: string): Buffer {
  let text: Buffer;
  try {
    text = readFileSync(path);
  } catch (error) {
    // "ENOENT: no such file or directory, open '/path'": the path is said already.
    const reason = (error as Error).message.replace(/, \w+ '.*'$/, '');
    throw new ConfigError(
      `${name}: cannot read it (${reason}): set it to a readable PEM file, or unset TLS_CERT and TLS_KEY for plain HTTP`,
    );
  }
  if (!text.includes('-----BEGIN ')) {
    throw new ConfigError(`${name}: not a PEM file: TLS_CERT and TLS_KEY take PEM text (it starts with a "-----BEGIN" line)`);
  }
  return text;
}

function parse<T>(read: () => T, problem: string, advice: string): T {
  try {
    return read();
  } catch (error) {
    throw new ConfigError(`${problem} (${(error as Error).message}): ${advice}`);
  }
}
