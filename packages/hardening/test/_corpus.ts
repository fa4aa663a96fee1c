/**
 * The regression corpus: inputs that once broke an oracle, kept in packages/hardening/corpus/*.json and replayed by
 * corpus.test.ts. A fuzz failure writes its input there (found-*.json) so it can be committed as-is.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface CorpusEntry {
  /** Which oracle: 'head-request' | 'head-response' | 'frames-client' | 'frames-server' | ... */
  target: string;
  /** hex of the input bytes */
  hex: string;
  /** what it once did wrong, and where it was fixed */
  note: string;
  /** decoder options beyond role, when relevant (e.g. deflate) */
  options?: Record<string, unknown>;
  seed?: number;
}

// The runner starts test processes in the repository root.
export const CORPUS_DIR = join(process.cwd(), 'packages', 'hardening', 'corpus');

export function saveFailure(e: CorpusEntry, name: string): string {
  mkdirSync(CORPUS_DIR, { recursive: true });
  const file = join(CORPUS_DIR, `found-${name}.json`);
  writeFileSync(file, JSON.stringify(e, null, 2) + '\n');
  return file;
}

export function loadCorpus(): Array<{ file: string; entry: CorpusEntry }> {
  let files: string[] = [];
  try {
    files = readdirSync(CORPUS_DIR).filter((f) => f.endsWith('.json')).sort();
  } catch {
    return [];
  }
  return files.map((f) => ({ file: f, entry: JSON.parse(readFileSync(join(CORPUS_DIR, f), 'utf8')) as CorpusEntry }));
}
