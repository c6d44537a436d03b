/**
 * @file The runtime entry point (`dlc/runtime`): loads and runs compiled programs in Node or a
 * browser. Nothing here imports the compiler.
 */
export { JsExecutor, importSource, type JsModule, type TypedArray } from './js-executor.js';
export { WebGpuExecutor, ShaderCompileError, getDevice, getGpu, type WebGpuLoad } from './webgpu-executor.js';
export { checkManifest, MANIFEST_FORMAT, MANIFEST_VERSION, type Manifest, type ManifestBuffer, type ManifestKernel } from './manifest.js';
export { initialize, INITIALIZERS, type InitSpec } from './init.js';
export { checkTensors, manifestSlots, StateError, type SetOptions, type StateProblem, type Slot, type Tensor } from './state.js';
export { readSafetensors, writeSafetensors, SafetensorsError, type SafeDType, type SafeFile, type SafeTensor } from '../io/safetensors.js';
export { matchWeights, readWeights, tensorsFromSafetensors, tensorsToSafetensors, writeWeights, type WeightsMatch } from './weights.js';
export { loadJsBundle, loadWebGpuBundle, type ReadFile } from './bundle.js';
