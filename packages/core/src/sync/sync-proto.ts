import { fileURLToPath } from 'node:url';
import { loadPackageDefinition } from '@grpc/grpc-js';
import { loadSync, type Options } from '@grpc/proto-loader';
import type { ProtoGrpcType } from '../gen/sync.js';

/** proto/ at the repository root: the same four levels up from src/sync (vitest) and dist/sync. */
export const protoRoot = fileURLToPath(new URL('../../../../proto/', import.meta.url));

/**
 * Runtime decoding options. They must match the flags scripts/gen-proto.mjs gives the type
 * generator (longs as Number: versions stay far below 2^53; enums as their names; defaults and
 * oneof names filled in), or the generated types would lie.
 */
export const syncLoaderOptions: Options = {
  keepCase: false,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [protoRoot],
};

let loaded: ProtoGrpcType | undefined;

/** The sync service (loaded once from the .proto): `.service` for servers, the constructor for clients. */
export function syncProto(): ProtoGrpcType['meshauth']['v1'] {
  loaded ??= loadPackageDefinition(loadSync('meshauth/v1/sync.proto', syncLoaderOptions)) as unknown as ProtoGrpcType;
  return loaded.meshauth.v1;
}
