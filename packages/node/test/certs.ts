/**
 * Test helper: a fresh self-signed P-256 certificate for localhost / 127.0.0.1 / ::1, made at run time.
 * Primary: the openssl CLI (the command in the task brief). Fallback when openssl is missing: a minimal X.509 v3
 * certificate DER-encoded here and signed with node:crypto (ECDSA-SHA256), with the same names.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import crypto from 'node:crypto';

export interface TestCert { cert: string; key: string; via: 'openssl' | 'node:crypto' }

function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore', timeout: 5000 });
    return true;
  } catch {
    return false;
  }
}

export function makeCert(forceFallback = false): TestCert {
  if (!forceFallback && hasOpenssl()) {
    const dir = mkdtempSync(join(tmpdir(), 'ss-cert-'));
    try {
      execFileSync('openssl', [
        'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
        '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost',
        '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
      ], { stdio: 'ignore', timeout: 10_000 });
      return { cert: readFileSync(join(dir, 'cert.pem'), 'utf8'), key: readFileSync(join(dir, 'key.pem'), 'utf8'), via: 'openssl' };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return derCert();
}

// --- minimal DER ---------------------------------------------------------------------------------------------
const len = (n: number): number[] => (n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff]);
const tlv = (tag: number, body: Uint8Array | number[]): Buffer => Buffer.from([tag, ...len(body.length), ...body]);
const seq = (...xs: Buffer[]): Buffer => tlv(0x30, Buffer.concat(xs));
const oid = (bytes: number[]): Buffer => tlv(0x06, bytes);
const OID_ECDSA_SHA256 = [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];
const OID_CN = [0x55, 0x04, 0x03];
const OID_SAN = [0x55, 0x1d, 0x11];
const OID_BASIC = [0x55, 0x1d, 0x13];

function utcTime(d: Date): Buffer {
  const p = (n: number): string => String(n).padStart(2, '0');
  const s = `${p(d.getUTCFullYear() % 100)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}Z`;
  return tlv(0x17, Buffer.from(s, 'ascii'));
}

function derCert(): TestCert {
  const { publicKey, privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const name = seq(tlv(0x31, seq(oid(OID_CN), tlv(0x0c, Buffer.from('localhost')))));
  const now = Date.now();
  const validity = seq(utcTime(new Date(now - 60_000)), utcTime(new Date(now + 86_400_000)));
  const san = seq(
    tlv(0x82, Buffer.from('localhost')),
    tlv(0x87, [127, 0, 0, 1]),
    tlv(0x87, [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]),
  );
  const exts = tlv(0xa3, seq(
    seq(oid(OID_BASIC), tlv(0x01, [0xff]), tlv(0x04, seq(tlv(0x01, [0xff])))),
    seq(oid(OID_SAN), tlv(0x04, san)),
  ));
  const serial = crypto.randomBytes(8);
  serial[0] = serial[0]! & 0x7f; // positive INTEGER
  const tbs = seq(
    tlv(0xa0, tlv(0x02, [2])),
    tlv(0x02, serial),
    seq(oid(OID_ECDSA_SHA256)),
    name,
    validity,
    name,
    publicKey.export({ type: 'spki', format: 'der' }),
    exts,
  );
  const sig = crypto.sign('sha256', tbs, privateKey); // DER ECDSA-Sig-Value
  const der = seq(tbs, seq(oid(OID_ECDSA_SHA256)), tlv(0x03, Buffer.concat([Buffer.from([0]), sig])));
  const b64 = der.toString('base64').replace(/.{1,64}/g, '$&\n');
  return {
    cert: `-----BEGIN CERTIFICATE-----\n${b64}-----END CERTIFICATE-----\n`,
    key: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    via: 'node:crypto',
  };
}
