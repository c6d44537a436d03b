/** @file Safetensors files on disk (Node): read and write by path; the format itself is in safetensors.ts. */
import { readFileSync, writeFileSync } from 'node:fs';
import { readSafetensors, SafetensorsError, writeSafetensors, type SafeFile, type SafeTensor } from './safetensors.js';

/** Reads and validates a .safetensors file; errors (unreadable file included) are SafetensorsError naming it. */
export function readSafetensorsFile(path: string): SafeFile {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new SafetensorsError(path, undefined, `cannot read the file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  return readSafetensors(bytes, path);
}

export function writeSafetensorsFile(path: string, tensors: ReadonlyMap<string, SafeTensor> | Readonly<Record<string, SafeTensor>>, metadata: Readonly<Record<string, string>> = {}): void {
  const bytes = writeSafetensors(tensors, metadata, path);
  try {
    writeFileSync(path, bytes);
  } catch (e) {
    throw new SafetensorsError(path, undefined, `cannot write the file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}
