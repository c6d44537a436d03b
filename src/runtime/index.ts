/**
 * @file The runtime entry point (`dlc/runtime`): loads and runs compiled programs in Node or a
 * browser. Nothing here imports the compiler.
 */
export { JsExecutor, importSource, type JsModule, type TypedArray } from './js-executor.js';
export { WebGpuExecutor, ShaderCompileError, getDevice, getGpu, type WebGpuLoad } from './webgpu-executor.js';
export { checkManifest, MANIFEST_FORMAT, MANIFEST_VERSION, type BundleIndex, type Manifest, type ManifestBuffer, type ManifestFile, type ManifestKernel } from './manifest.js';
export { initialize, INITIALIZERS, type InitSpec } from './init.js';
export { checkTensors, manifestSlots, StateError, type SetOptions, type StateProblem, type Slot, type Tensor } from './state.js';
export { readSafetensors, writeSafetensors, SafetensorsError, type SafeDType, type SafeFile, type SafeTensor } from '../io/safetensors.js';
export { matchWeights, readWeights, tensorsFromSafetensors, tensorsToSafetensors, writeWeights, type WeightsMatch } from './weights.js';
export { loadJsBundle, loadProgram, loadWebGpuBundle, type LoadOptions, type ReadFile } from './bundle.js';
export { BundleError, InputError } from './bundle-errors.js';
export { GpuError } from './gpu-errors.js';
export { Program, type InputValue, type TensorInfo } from './program.js';
export { bundleIndexProblem, manifestProblem } from './validate.js';
export { sha256Hex } from './digest.js';
