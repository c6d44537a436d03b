/**
 * WebGPU availability for tests. With DLC_REQUIRE_WEBGPU=1 (CI) a missing adapter fails the
 * suite; otherwise WebGPU tests are skipped with a visible message.
 */
import { getDevice } from '../../src/runtime/webgpu-executor.js';

export const REQUIRE_WEBGPU = Boolean(process.env['DLC_REQUIRE_WEBGPU']);

let probed: Promise<boolean> | undefined;

export async function hasWebGpu(): Promise<boolean> {
  probed ??= (async () => {
    const device = await getDevice();
    if (!device && REQUIRE_WEBGPU) throw new Error('DLC_REQUIRE_WEBGPU=1 but no WebGPU adapter was found (run scripts/setup-webgpu.sh)');
    if (!device) console.warn('\n  [dlc] no WebGPU adapter: WebGPU tests are SKIPPED on this machine (CI requires them)\n');
    return device !== undefined;
  })();
  return probed;
}

/** Top-level await in a test file: whether to run its WebGPU cases. */
export const WEBGPU = await hasWebGpu();
