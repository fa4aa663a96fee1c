/** `streamsocket/codec`: frames and messages as TransformStreams, permessage-deflate (all of @streamsocket/codec). */
export * from '@streamsocket/codec';
