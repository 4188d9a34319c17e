import type { ServiceDefinition } from '@grpc/grpc-js';
import type { GlobalMessage } from '../gen/meshauth/v1/GlobalMessage.js';
import { syncProto } from './sync-proto.js';

/**
 * A GlobalMessage serialized once and written as is to any number of streams: a change fanned out
 * to 10,000 zones is encoded once, not once per stream (grpc-js serializes every `write` with the
 * method's serializer otherwise). The class marks bytes that are a whole encoded message, so no
 * other Buffer is ever mistaken for one.
 */
export class EncodedGlobalMessage {
  private constructor(readonly bytes: Buffer) {}

  static of(message: GlobalMessage): EncodedGlobalMessage {
    return new EncodedGlobalMessage(syncProto().GlobalSync.service.Sync.responseSerialize(message));
  }
}

/** What the server writes to a Sync stream: a message to serialize, or one serialized already. */
export type OutgoingGlobalMessage = GlobalMessage | EncodedGlobalMessage;

let serverService: ServiceDefinition | undefined;

/** The GlobalSync service for a server: its Sync responses may be EncodedGlobalMessages, written byte for byte. */
export function syncServiceForServer(): ServiceDefinition {
  if (serverService) return serverService;
  const service = syncProto().GlobalSync.service;
  const serialize = service.Sync.responseSerialize;
  serverService = {
    ...service,
    Sync: { ...service.Sync, responseSerialize: (message: OutgoingGlobalMessage) => (message instanceof EncodedGlobalMessage ? message.bytes : serialize(message)) },
  };
  return serverService;
}
