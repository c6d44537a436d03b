// ==== k0_reduce_max.wgsl
// k0_reduce_max: reduce_max (small.dl:2)
@group(0) @binding(0) var<storage, read_write> S: array<u32>;
@group(0) @binding(1) var<storage, read_write> A: array<u32>;

fn dlc_f32_bits(bits: u32) -> f32 {
  var b = bits;
  return bitcast<f32>(b);
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let flat: i32 = i32((wg.y * nwg.x + wg.x) * 64u + li);
  if (flat >= 2) { return; }
  let i0: i32 = flat;
  var acc1: f32 = dlc_f32_bits(0xff800000u);
  for (var r0: i32 = 0; r0 < 3; r0++) {
    let v0: f32 = bitcast<f32>(S[(r0 + (i0 * 3i))]);
    acc1 = max(acc1, v0);
  }
  A[flat] = bitcast<u32>(acc1);
}

// ==== k1_sub.wgsl
// k1_sub: sub (small.dl:2)
@group(0) @binding(0) var<storage, read_write> S: array<u32>;
@group(0) @binding(1) var<storage, read_write> A: array<u32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let flat: i32 = i32((wg.y * nwg.x + wg.x) * 64u + li);
  if (flat >= 6) { return; }
  let i0: i32 = (flat / 3);
  let i1: i32 = flat % 3;
  A[64 + flat] = bitcast<u32>((bitcast<f32>(S[(i1 + (i0 * 3i))]) - bitcast<f32>(A[i0])));
}

// ==== k2_exp.wgsl
// k2_exp: exp (small.dl:2)
@group(0) @binding(0) var<storage, read_write> S: array<u32>;
@group(0) @binding(1) var<storage, read_write> A: array<u32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let flat: i32 = i32((wg.y * nwg.x + wg.x) * 64u + li);
  if (flat >= 6) { return; }
  let i0: i32 = (flat / 3);
  let i1: i32 = flat % 3;
  A[128 + flat] = bitcast<u32>(exp(bitcast<f32>(A[64 + (i1 + (i0 * 3i))])));
}

// ==== k3_reduce_sum.wgsl
// k3_reduce_sum: reduce_sum (small.dl:2)
@group(0) @binding(0) var<storage, read_write> S: array<u32>;
@group(0) @binding(1) var<storage, read_write> A: array<u32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let flat: i32 = i32((wg.y * nwg.x + wg.x) * 64u + li);
  if (flat >= 2) { return; }
  let i0: i32 = flat;
  var acc1: f32 = 0.0f;
  for (var r0: i32 = 0; r0 < 3; r0++) {
    let v0: f32 = bitcast<f32>(A[128 + (r0 + (i0 * 3i))]);
    acc1 = (acc1 + v0);
  }
  A[192 + flat] = bitcast<u32>(acc1);
}

// ==== k4_div.wgsl
// k4_div: div (small.dl:2)
@group(0) @binding(0) var<storage, read_write> S: array<u32>;
@group(0) @binding(1) var<storage, read_write> A: array<u32>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let flat: i32 = i32((wg.y * nwg.x + wg.x) * 64u + li);
  if (flat >= 6) { return; }
  let i0: i32 = (flat / 3);
  let i1: i32 = flat % 3;
  S[64 + flat] = bitcast<u32>((bitcast<f32>(A[128 + (i1 + (i0 * 3i))]) / bitcast<f32>(A[192 + i0])));
}
