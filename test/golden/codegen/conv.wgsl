// ==== k0_matmul.wgsl
// k0_matmul: dot_general (small.dl:4)
@group(0) @binding(0) var<storage, read_write> S: array<u32>;
@group(0) @binding(1) var<storage, read_write> A: array<u32>;
@group(0) @binding(2) var<uniform> P: array<vec4<u32>, 64>;

var<workgroup> ta: array<f32, 256>;
var<workgroup> tb: array<f32, 256>;

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let tile: i32 = i32(wg.y * nwg.x + wg.x);
  if (tile >= i32(P[1].w)) { return; }
  let bt: i32 = i32(wg.z);
  let row0: i32 = (tile / i32(P[2].x)) * 16;
  let col0: i32 = (tile % i32(P[2].x)) * 16;
  var c0: f32 = 0.0f;
  for (var t: i32 = 0; t < i32(P[2].y); t += 16) {
    for (var e: i32 = i32(li); e < i32(P[2].z); e += 256) {
      let row: i32 = row0 + e / 16;
      let ak: i32 = t + e % 16;
      ta[e] = select(0.0f, bitcast<f32>(S[i32(P[2].w) + i32(P[0].z) + 0 + ((min(row, i32(P[0].x))) % 2) + ((min(row, i32(P[0].x))) / 2) * 4 + ((min(ak, i32(P[0].y))) % 3) + ((min(ak, i32(P[0].y))) / 3) * 4]), row < i32(P[0].w) && ak < i32(P[1].y));
    }
    for (var e: i32 = i32(li); e < i32(P[2].z); e += 256) {
      let bk: i32 = t + e / 16;
      let col: i32 = col0 + (e % 16) * 1;
      tb[e] = select(0.0f, bitcast<f32>(S[i32(P[4].y) + i32(P[3].y) + bt * i32(P[3].z) + min(bk, i32(P[0].y)) * i32(P[3].w) + min(col, i32(P[3].x)) * i32(P[4].x)]), bk < i32(P[1].y) && col + 0 < i32(P[1].x));
    }
    workgroupBarrier();
    for (var kk: u32 = 0u; kk < u32(i32(P[4].z)); kk++) {
      let b: f32 = tb[kk * 16u + lid.x];
      c0 = c0 + ta[(lid.y * 1u + 0u) * 16u + kk] * b;
    }
    workgroupBarrier();
  }
  {
    let row: i32 = row0 + i32(lid.y) * 1 + 0;
    { let col: i32 = col0 + i32(lid.x) * 1 + 0; if (row < i32(P[0].w) && col < i32(P[1].x)) { A[i32(P[4].w) + bt * i32(P[1].z) + row * i32(P[1].x) + col] = bitcast<u32>(c0); } }
  }
}

// ==== k1_permute.wgsl
// k1_permute: permute (small.dl:4)
@group(0) @binding(0) var<storage, read_write> S: array<u32>;
@group(0) @binding(1) var<storage, read_write> A: array<u32>;
@group(0) @binding(2) var<uniform> P: array<vec4<u32>, 64>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let flat: i32 = i32((wg.y * nwg.x + wg.x) * 64u + li);
  if (flat >= 8) { return; }
  let i0: i32 = (flat / 8);
  let i1: i32 = (flat / 4) % 2;
  let i2: i32 = (flat / 2) % 2;
  let i3: i32 = flat % 2;
  S[i32(P[0].y) + flat] = bitcast<u32>(bitcast<f32>(A[i32(P[0].x) + (((i1 + (i3 * 2i)) + (i2 * 4i)) + (i0 * 8i))]));
}
