/** `streamsocket/handshake`: the opening handshake, pure and synchronous (all of @streamsocket/handshake). */
export * from '@streamsocket/handshake';
