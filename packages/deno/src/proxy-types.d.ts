/** Ambient declarations of the Deno APIs proxying adds: subsets of Deno 2.9's own, as in types.d.ts. */
declare namespace Deno {
  interface StartTlsOptions {
    hostname?: string;
    caCerts?: string[];
    alpnProtocols?: string[];
    unsafelyDisableHostnameVerification?: boolean;
  }
  function startTls(conn: TcpConn, options?: StartTlsOptions): Promise<TlsConn>;

  const env: { get(key: string): string | undefined; set(key: string, value: string): void; delete(key: string): void };
  const permissions: {
    querySync?(desc: { name: 'env'; variable?: string }): { state: 'granted' | 'denied' | 'prompt' };
  };
}
