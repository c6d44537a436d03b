/**
 * @file SHA-256 digests with Web Crypto (`crypto.subtle`, in browsers and Node 20), as lowercase
 * hex: of a bundle's files, and of a manifest's JSON without its `integrity` field (so a manifest
 * edited by hand is told from the one `dlc build` wrote).
 */

/** The SHA-256 of bytes, 64 lowercase hex digits. */
export async function sha256Hex(bytes: Uint8Array | string): Promise<string> {
  const data = typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes;
  const subtle = (globalThis as { crypto?: { subtle?: { digest(a: string, d: ArrayBuffer): Promise<ArrayBuffer> } } }).crypto?.subtle;
  if (!subtle) throw new Error('this platform has no Web Crypto (crypto.subtle): a bundle cannot be verified (a browser page needs a secure context: https or localhost)');
  // A copy into a fresh ArrayBuffer: digest takes a BufferSource of a plain ArrayBuffer.
  const copy = new Uint8Array(data.byteLength);
  copy.set(data);
  const d = new Uint8Array(await subtle.digest('SHA-256', copy.buffer));
  let hex = '';
  for (const b of d) hex += b.toString(16).padStart(2, '0');
  return hex;
}

/**
 * The text a manifest's `integrity` is the digest of: the manifest's JSON (as parsed, keys in their
 * order) without the `integrity` field itself.
 */
export function integrityText(manifest: Readonly<Record<string, unknown>>): string {
  const { integrity: _, ...rest } = manifest;
  return JSON.stringify(rest);
}
