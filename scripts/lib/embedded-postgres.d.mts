export interface EmbeddedPostgresSettings {
  host: string;
  port: number;
  user: string;
  password: string;
  dbName: string;
  tlsMode: 'disable';
  tlsCaPath: string;
  maxOpenConnections: number;
}

export interface EmbeddedPostgresServer {
  settings: EmbeddedPostgresSettings;
  env: Record<string, string>;
  createDatabase(name: string): Promise<EmbeddedPostgresSettings>;
  query(sql: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
  pause(): Promise<void>;
  resume(): Promise<void>;
  stop(): Promise<void>;
}

export function startEmbeddedPostgres(options?: { dbName?: string; log?: (message: unknown) => void; port?: number; choosePort?: () => Promise<number> }): Promise<EmbeddedPostgresServer>;

export function freePort(): Promise<number>;
