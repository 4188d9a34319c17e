-- zone-1's database, beside global's (POSTGRES_DB) on the one server of docker-compose.ha.yml.
-- The postgres image runs the files in /docker-entrypoint-initdb.d once, when it creates an empty
-- data directory (a `postgres-data` volume made before this file existed needs `down -v` first).
-- Both zone-1 replicas use it; owned by POSTGRES_USER, the user they connect as.
CREATE DATABASE meshauth_zone_1;
