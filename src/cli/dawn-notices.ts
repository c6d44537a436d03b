/**
 * @file Dawn's limit notices. When Dawn (Node's `webgpu` package) creates an adapter on a driver
 * that reports more dynamic buffers per pipeline layout than Dawn supports (Mesa lavapipe reports
 * 1000000), it clamps the limit and prints two lines straight to file descriptor 2, from native
 * code, before any device limits can be requested:
 *
 *   Warning: maxDynamicUniformBuffersPerPipelineLayout artificially reduced from 1000000 to 16 to fit dynamic offset allocation limit.
 *   Warning: maxDynamicStorageBuffersPerPipelineLayout artificially reduced from 1000000 to 16 to fit dynamic offset allocation limit.
 *
 * dlc binds no dynamic buffers, so they say nothing about the run. Node cannot redirect its own
 * fd 2, so `bin/dlc.js` runs commands that may create a WebGPU adapter in a child process and
 * passes its stderr through this filter, which drops exactly these lines and nothing else.
 */

/** One of Dawn's two limit notices, as a whole line. */
export const DAWN_LIMIT_NOTICE = /^Warning: maxDynamic(?:Uniform|Storage)BuffersPerPipelineLayout artificially reduced from \d+ to \d+ to fit dynamic offset allocation limit\.\r?$/;

const PREFIX = 'Warning: maxDynamic';

/** Whether a command line may create a WebGPU adapter: `dlc verify`, `dlc run --backend webgpu`. */
export function mayUseWebGpu(argv: readonly string[]): boolean {
  const command = argv.find((a) => !a.startsWith('-'));
  if (command === 'verify') return true;
  return argv.some((a, i) => a === '--backend=webgpu' || (a === '--backend' && argv[i + 1] === 'webgpu'));
}

/**
 * A streaming filter of stderr text: `push` returns what can be shown now, `end` the rest. Whole
 * lines matching DAWN_LIMIT_NOTICE are dropped; a partial line is held back only while it could
 * still become one, so prompts and progress output are not delayed.
 */
export class DawnNoticeFilter {
  private pending = '';

  push(chunk: string): string {
    let text = this.pending + chunk;
    this.pending = '';
    let out = '';
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n')) {
      const line = text.slice(0, nl);
      if (!DAWN_LIMIT_NOTICE.test(line)) out += `${line}\n`;
      text = text.slice(nl + 1);
    }
    if (text.length > 0 && (PREFIX.startsWith(text) || text.startsWith(PREFIX))) this.pending = text;
    else out += text;
    return out;
  }

  end(): string {
    const rest = this.pending;
    this.pending = '';
    return DAWN_LIMIT_NOTICE.test(rest) ? '' : rest;
  }
}
