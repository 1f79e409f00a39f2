-- Chunk visibility probes space_chunks by (space_id, hash) for each of the user's spaces, so the
-- index by hash alone is one more random-key B-tree insert per chunk that nothing reads.
-- (SQLite's 0006 also rebuilds the chunk tables WITHOUT ROWID; PostgreSQL has no such layout.)
DROP INDEX space_chunks_hash;
