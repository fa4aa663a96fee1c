/** `streamsocket/session`: a WebSocket over any `{ readable, writable }` byte pair (all of @streamsocket/session). */
export * from '@streamsocket/session';
