// ==== k0_div.wgsl
// k0_div: reduce_max reshape broadcast sub exp reduce_sum reshape broadcast div (small.dl:2)
@group(0) @binding(0) var<storage, read_write> S: array<u32>;
@group(0) @binding(1) var<storage, read_write> A: array<u32>;
@group(0) @binding(2) var<uniform> P: array<vec4<u32>, 64>;

fn dlc_f32_bits(bits: u32) -> f32 {
  var b = bits;
  return bitcast<f32>(b);
}
fn dlc_max(a: f32, b: f32) -> f32 {
  let ua = bitcast<u32>(a);
  let ub = bitcast<u32>(b);
  if ((ua & 0x7fffffffu) > 0x7f800000u) { return a; }
  if ((ub & 0x7fffffffu) > 0x7f800000u) { return b; }
  if (a > b) { return a; }
  if (b > a) { return b; }
  return bitcast<f32>(ua & ub);
}

var<workgroup> sh_f32: array<f32, 64>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let row: i32 = i32(wg.y * nwg.x + wg.x);
  let o: i32 = min(row, 1);
  let i0: i32 = o;
  {
    var acc: f32 = dlc_f32_bits(0xff800000u);
    for (var rr: i32 = i32(li); rr < i32(P[0].y); rr += 64) {
      let r0: i32 = rr;
      let v: f32 = bitcast<f32>(S[i32(P[0].x) + (r0 + (i0 * 3i))]);
      acc = dlc_max(acc, v);
    }
    sh_f32[li] = acc;
  }
  workgroupBarrier();
  for (var s: u32 = 32u; s > 0u; s = s >> 1u) {
    if (li < s) { sh_f32[li] = dlc_max(sh_f32[li], sh_f32[li + s]); }
    workgroupBarrier();
  }
  let row0: f32 = sh_f32[0];
  workgroupBarrier();
  {
    var acc: f32 = 0.0f;
    for (var rr: i32 = i32(li); rr < i32(P[0].y); rr += 64) {
      let r1: i32 = rr;
      let v: f32 = exp((bitcast<f32>(S[i32(P[0].x) + (r1 + (i0 * 3i))]) - row0));
      acc = (acc + v);
    }
    sh_f32[li] = acc;
  }
  workgroupBarrier();
  for (var s: u32 = 32u; s > 0u; s = s >> 1u) {
    if (li < s) { sh_f32[li] = (sh_f32[li] + sh_f32[li + s]); }
    workgroupBarrier();
  }
  let row1: f32 = sh_f32[0];
  workgroupBarrier();
  if (row < 2) {
    for (var e: i32 = i32(li); e < i32(P[0].y); e += 64) {
      let i1: i32 = e;
      S[i32(P[0].z) + i0 * 3 + i1 * 1] = bitcast<u32>((exp((bitcast<f32>(S[i32(P[0].x) + (i1 + (i0 * 3i))]) - row0)) / row1));
    }
  }
}
