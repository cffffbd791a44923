// The API's listener settings with every socket and credential off, for tests and benchmarks that
// start an API server: each names only what it turns on.

/** apiSocket, apiListen, token and TLS files empty, tokenLimit 100 (fleet's default), then `over`. */
export function apiListenConfig<T extends object>(over: T) {
  return {
    apiSocket: '',
    apiListen: '',
    apiToken: '',
    apiTlsCert: '',
    apiTlsKey: '',
    apiTlsClientCa: '',
    tokenLimit: 100,
    ...over,
  };
}
