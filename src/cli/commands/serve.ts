/**
 * @file `dlc serve [DIR] [--port N] [--host H]`: a small static file server for trying a bundle in
 * a browser (examples/web/): files under DIR only, GET and HEAD, the right MIME type for each
 * kind of file a bundle and a page have, and a strict content-security policy (scripts, styles,
 * fetches and workers from the same origin only; no inline script, no eval, no `data:` modules),
 * so a page that works under it works under a site's own strict policy.
 */
import { createReadStream, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { extname, join, resolve, sep } from 'node:path';
import { checkFlags, flag, has, UsageError, type ParsedArgs } from '../args.js';
import type { Io } from '../common.js';

/** The policy every response carries. */
export const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; worker-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export const MIME: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.wgsl': 'text/wgsl; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.ts': 'text/plain; charset=utf-8',
  '.dl': 'text/plain; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.csv': 'text/csv; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.safetensors': 'application/octet-stream',
  '.npy': 'application/octet-stream',
  '.wasm': 'application/wasm',
};

export interface StaticServer {
  readonly server: Server;
  /** `http://host:port/` */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * Serves the files under `root`; resolves once it listens (port 0: any free port). `csp` replaces
 * the policy (a page that runs the compiler needs `'unsafe-eval'` and `data:` in script-src:
 * docs/backends.md, "The compiler in a browser").
 */
export function serveStatic(root: string, opts: { port?: number; host?: string; log?: (line: string) => void; csp?: string } = {}): Promise<StaticServer> {
  const base = resolve(root);
  const csp = opts.csp ?? CSP;
  const server = createServer((req, res) => {
    const send = (status: number, text: string) => {
      res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Security-Policy': csp, 'X-Content-Type-Options': 'nosniff' });
      res.end(req.method === 'HEAD' ? undefined : `${text}\n`);
      opts.log?.(`${status} ${req.method} ${req.url}`);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'only GET and HEAD');
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    } catch {
      return send(400, 'bad URL');
    }
    let file = resolve(base, `.${path}`);
    if (file !== base && !file.startsWith(base + sep)) return send(403, 'outside the served directory');
    if (path.split('/').some((p) => p.startsWith('.') && p.length > 0)) return send(404, 'not found');
    let st;
    try {
      st = statSync(file);
      if (st.isDirectory()) {
        if (!path.endsWith('/')) {
          res.writeHead(301, { Location: `${path}/`, 'Content-Security-Policy': csp });
          res.end();
          return;
        }
        file = join(file, 'index.html');
        st = statSync(file);
      }
    } catch {
      return send(404, 'not found');
    }
    res.writeHead(200, {
      'Content-Type': MIME[extname(file).toLowerCase()] ?? 'application/octet-stream',
      'Content-Length': st.size,
      'Content-Security-Policy': csp,
      'X-Content-Type-Options': 'nosniff',
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cache-Control': 'no-cache',
    });
    opts.log?.(`200 ${req.method} ${req.url}`);
    if (req.method === 'HEAD') return res.end();
    createReadStream(file).pipe(res);
  });
  return new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(opts.port ?? 8080, opts.host ?? '127.0.0.1', () => {
      const a = server.address();
      const port = typeof a === 'object' && a ? a.port : opts.port;
      const host = opts.host && opts.host !== '127.0.0.1' ? opts.host : 'localhost';
      ok({ server, url: `http://${host}:${port}/`, close: () => new Promise((done) => server.close(() => done())) });
    });
  });
}

export async function cmdServe(io: Io, args: ParsedArgs): Promise<void> {
  checkFlags(args, ['port', 'host', 'quiet']);
  if (args.positional.length > 1) throw new UsageError(`unexpected argument \`${args.positional[1]}\``);
  const root = args.positional[0] ?? '.';
  let st;
  try {
    st = statSync(root);
  } catch {
    throw new UsageError(`no such directory: ${root}`);
  }
  if (!st.isDirectory()) throw new UsageError(`${root} is not a directory`);
  const portText = flag(args, 'port') ?? '8080';
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port is a port number 0..65535, got \`${portText}\``);
  const quiet = has(args, 'quiet');
  let s: StaticServer;
  try {
    s = await serveStatic(root, { port, host: flag(args, 'host'), log: quiet ? undefined : (l) => io.err(`${l}\n`) });
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'EADDRINUSE') throw new UsageError(`port ${port} is in use (pick another with --port)`);
    throw e;
  }
  io.out(`serving ${root} at ${s.url} (Ctrl-C stops)\n`);
  await new Promise<void>((done) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      void s.close().then(done);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
