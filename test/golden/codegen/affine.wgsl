// ==== k0_matmul_add.wgsl
// k0_matmul_add: dot_general reshape broadcast add (small.dl:3)
@group(0) @binding(0) var<storage, read_write> S: array<u32>;
@group(0) @binding(1) var<storage, read_write> A: array<u32>;
@group(0) @binding(2) var<uniform> P: array<vec4<u32>, 64>;

fn epilogue(acc: f32, f: i32) -> f32 {
  let e0: i32 = (f / 4);
  let e1: i32 = f % 4;
  return (acc + bitcast<f32>(S[i32(P[3].x) + e1]));
}

var<workgroup> ta: array<f32, 256>;
var<workgroup> tb: array<f32, 256>;

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let tile: i32 = i32(wg.y * nwg.x + wg.x);
  if (tile >= i32(P[2].z)) { return; }
  let bt: i32 = i32(wg.z);
  let row0: i32 = (tile / i32(P[2].w)) * 16;
  let col0: i32 = (tile % i32(P[2].w)) * 16;
  var c0: f32 = 0.0f;
  for (var t: i32 = 0; t < i32(P[3].y); t += 16) {
    for (var e: i32 = i32(li); e < i32(P[3].z); e += 256) {
      let row: i32 = row0 + e / 16;
      let ak: i32 = t + e % 16;
      ta[e] = select(0.0f, bitcast<f32>(S[i32(P[3].w) + i32(P[0].z) + bt * i32(P[0].w) + min(row, i32(P[0].x)) * i32(P[1].x) + min(ak, i32(P[0].y)) * i32(P[1].y)]), row < i32(P[1].z) && ak < i32(P[2].x));
    }
    for (var e: i32 = i32(li); e < i32(P[3].z); e += 256) {
      let bk: i32 = t + e / 16;
      let col: i32 = col0 + (e % 16) * 1;
      tb[e] = select(0.0f, bitcast<f32>(S[i32(P[5].y) + i32(P[4].y) + bt * i32(P[4].z) + min(bk, i32(P[0].y)) * i32(P[4].w) + min(col, i32(P[4].x)) * i32(P[5].x)]), bk < i32(P[2].x) && col + 0 < i32(P[1].w));
    }
    workgroupBarrier();
    for (var kk: u32 = 0u; kk < u32(i32(P[5].z)); kk++) {
      let b: f32 = tb[kk * 16u + lid.x];
      c0 = c0 + ta[(lid.y * 1u + 0u) * 16u + kk] * b;
    }
    workgroupBarrier();
  }
  {
    let row: i32 = row0 + i32(lid.y) * 1 + 0;
    { let col: i32 = col0 + i32(lid.x) * 1 + 0; if (row < i32(P[1].z) && col < i32(P[1].w)) { S[i32(P[5].w) + bt * i32(P[2].y) + row * i32(P[1].w) + col] = bitcast<u32>(epilogue(c0, bt * i32(P[2].y) + row * i32(P[1].w) + col)); } }
  }
}
