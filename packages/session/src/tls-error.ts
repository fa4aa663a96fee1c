/**
 * The one error every adapter's client rejects `opened` with when the TLS handshake fails (untrusted chain, wrong
 * name, protocol failure): the target, the runtime's own code when it has one, and a hint for certificate trouble.
 * The runtime's error is the `cause`.
 */

/** host:port, with IPv6 literals in brackets. */
export function formatHost(t: { hostname: string; port: number }): string {
  return `${t.hostname.includes(':') ? `[${t.hostname}]` : t.hostname}:${t.port}`;
}

/** What certificate failures look like in Node's and Bun's codes and in Deno's (rustls) messages. */
const CERTIFICATE = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ALTNAME|certificate|UnknownIssuer|CaUsedAsEndEntity|NotValidForName/i;

export class TlsConnectError extends Error {
  /** The runtime's code (e.g. Node's 'DEPTH_ZERO_SELF_SIGNED_CERT'), or 'ERR_TLS' when it gives none. */
  readonly code: string;
  /**
   * `canSkip`: the runtime can turn verification off per connection (`rejectUnauthorized: false`), so the hint
   * names it too (Deno cannot: only its hostname check can be turned off).
   */
  constructor(target: { hostname: string; port: number }, cause: unknown, canSkip = true) {
    const detail = cause instanceof Error ? cause.message : String(cause);
    const own = (cause as { code?: unknown } | null)?.code;
    const code = typeof own === 'string' ? own : 'ERR_TLS';
    const hint = CERTIFICATE.test(`${code} ${detail}`)
      ? `; pass \`ca\` with the certificate that signed it${canSkip ? ', or `rejectUnauthorized: false` to skip verification' : ''}`
      : '';
    super(`TLS connection to ${formatHost(target)} failed: ${detail} (${code})${hint}`, { cause });
    this.name = 'TlsConnectError';
    this.code = code;
  }
}
