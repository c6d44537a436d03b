// ==== k0_matmul_add.wgsl
// k0_matmul_add: dot_general reshape broadcast add (small.dl:3)
@group(0) @binding(0) var<storage, read_write> S: array<u32>;
@group(0) @binding(1) var<storage, read_write> A: array<u32>;

fn epilogue(acc: f32, f: i32) -> f32 {
  let e0: i32 = (f / 4);
  let e1: i32 = f % 4;
  return (acc + bitcast<f32>(S[128 + e1]));
}

var<workgroup> ta: array<f32, 256>;
var<workgroup> tb: array<f32, 256>;

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let tile: i32 = i32(wg.y * nwg.x + wg.x);
  let bt: i32 = i32(wg.z);
  let row: i32 = (tile / 1) * 16 + i32(lid.y);
  let col: i32 = (tile % 1) * 16 + i32(lid.x);
  var acc: f32 = 0.0f;
  for (var t: i32 = 0; t < 3; t += 16) {
    let ak: i32 = t + i32(lid.x);
    let bk: i32 = t + i32(lid.y);
    ta[lid.y * 16u + lid.x] = select(0.0f, bitcast<f32>(S[0 + bt * 0 + min(row, 1) * 3 + min(ak, 2) * 1]), row < 2 && ak < 3);
    tb[lid.y * 16u + lid.x] = select(0.0f, bitcast<f32>(S[64 + 0 + bt * 0 + min(bk, 2) * 4 + min(col, 3) * 1]), bk < 3 && col < 4);
    workgroupBarrier();
    for (var kk: u32 = 0u; kk < 16u; kk++) {
      acc = acc + ta[lid.y * 16u + kk] * tb[kk * 16u + lid.x];
    }
    workgroupBarrier();
  }
  if (row < 2 && col < 4 && tile < 1) {
    S[192 + bt * 8 + row * 4 + col] = bitcast<u32>(epilogue(acc, bt * 8 + row * 4 + col));
  }
}
