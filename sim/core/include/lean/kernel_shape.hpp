// The decode kernel's fixed shape, in one place: the CUDA kernel's configuration, the CPU
// emulation of its arithmetic, the grid heuristic and the timeline model all read it.
#pragma once

#include <cstddef>
#include <cstdint>

namespace lean {

struct KernelShape {
  static constexpr int kTile = 64;     ///< tokens per shared-memory pipeline stage
  static constexpr int kWarps = 4;
  static constexpr int kThreads = 128;
  /// Threads of a merge-kernel CTA (cuda/src/combine.cu, one per split unit and query row): 256,
  /// or kMaxMergeThreads by merge_threads. How many contributor blocks a row's sum splits into, and
  /// so its order, depends on it; the emulation follows. 256 took MQA's 64-128 partials a row in
  /// two batches of loads instead of four (H200: MQA 16k 12.5 -> 12.0 us, 128k 30.3 -> 28.4;
  /// bench/NOTES.md step 32).
  static constexpr int kMergeThreads = 256;
  static constexpr int kMaxMergeThreads = 512;
  static constexpr int kMergeBatch = 8;  ///< partial loads a merge thread has in flight
  /// The merge kernel's threads for rows of up to `contributors` partials: kMaxMergeThreads where
  /// kMergeThreads would leave a thread more than one batch of loads (d128: over 64 partials, as
  /// MQA split over the whole grid: H200 MQA 64k 19.1 -> 18.2 us, 128k 27.8 -> 27.0; H100 d64 MQA
  /// 64k 17.1 -> 16.2; bench/NOTES.md step 61). 512 for every plan slowed GQA's rows of 16
  /// partials (4k: 10.8 -> 11.4 us, step 32).
  static constexpr int merge_threads(int head_dim, int contributors) {
    return contributors > kMergeBatch * (kMergeThreads / (head_dim / 4)) ? kMaxMergeThreads : kMergeThreads;
  }
  /// Merge kernels of at most this many CTAs launch with the most L1 and least shared memory an SM
  /// offers, a configuration no SM running decode CTAs has, so none of them lands beside one
  /// (cuda/src/combine.cu). Same-run A/Bs against the default configuration (bench/NOTES.md step
  /// 71): 32 CTAs gained 0.15-0.4 us on the H200 (b1 MHA 1k 9.7 -> 9.55, 16k 65.35 -> 65.0, GQA
  /// 32/8 64k 66.85 -> 66.55, MQA 32/1 16k 10.4 -> 10.1) and 0.15-2 us on the H100 (2k 16.15 ->
  /// 15.9, 512k 2744 -> 2741.7); 64-128 were even, and 256-512 lost on the H200 (pages of 64, 256
  /// CTAs: 129.35 -> 131.3; our fixed split's b16 GQA 4k, 512: 67.8 -> 73.3).
  static constexpr int kIsolatedMergeCtas = 32;
  static constexpr bool isolates_merge(int64_t merge_ctas) { return merge_ctas > 0 && merge_ctas <= kIsolatedMergeCtas; }
  /// Partials of a row the merge kernel loads in one round (d128: 128); more wait on a second
  /// round trip (H200 MQA 32/1 100000 tokens: 24.6 us on 132 CTAs against 23.6 on 124, step 65).
  static constexpr int merge_round(int head_dim) { return kMergeBatch * (kMaxMergeThreads / (head_dim / 4)); }
  static constexpr int kSmemPerSm = 228 * 1024;  ///< Hopper shared memory per SM, bytes
  static constexpr int stages(int) { return 3; }
  static constexpr int m_tiles(int group) { return group <= 16 ? 1 : group <= 32 ? 2 : 4; }
  static constexpr int warp_tokens(int group) { return kTile * m_tiles(group) / kWarps; }
  /// K and V bytes one CTA keeps in flight while it computes a stage.
  static constexpr double inflight_bytes(int head_dim) { return (stages(head_dim) - 1) * kTile * head_dim * 2.0 * 2.0; }
  /// Dynamic shared memory of one CTA (must match cuda/src/decode_kernel.cuh DecodeConfig).
  static constexpr size_t smem_bytes(int head_dim, int mt) {
    return 2 * size_t(stages(head_dim)) * kTile * head_dim * 2 + size_t(16 * mt) * (head_dim + 8) * 2 +
           2 * kWarps * 16 * sizeof(float) + 2 * 16 * mt * sizeof(float) + 1024;  // + 1024: stages aligned to 1 KB
  }
  /// Query heads one CTA holds at `head_dim` (the instantiations in cuda/src/inst): 64 up to head
  /// dim 128; 32 at 256, where 64 rows would need 128 accumulator registers a thread for O and all
  /// 227 KB of an SM's shared memory. Larger groups run in row blocks (min_row_split).
  static constexpr int max_unit_rows(int head_dim) { return head_dim <= 128 ? 64 : 32; }
  /// Query heads a CTA holds without spilling much: at head dim 256 the two-m-tile kernels spill
  /// 184-312 bytes a thread, the one-m-tile `general` kernel 24 (page windows 128; ptxas -v,
  /// bench/NOTES.md step 68).
  static constexpr int unspilled_unit_rows(int head_dim) { return head_dim <= 128 ? 64 : 16; }
  /// Whether pages of `page_size` tokens (0: a contiguous cache) are not whole tiles: the decode
  /// kernel then reads their page ids from per-warp windows (its kPageWindows instantiation), and
  /// tensor loads bring a tile in several page-sized boxes.
  static constexpr bool uses_page_windows(int page_size) { return page_size > 0 && page_size % kTile != 0; }
  /// Co-resident CTAs per SM as shared memory allows (the launcher asks CUDA for the truth).
  static constexpr int ctas_per_sm_estimate(int head_dim, int group) {
    const int by_smem = int(kSmemPerSm / (smem_bytes(head_dim, m_tiles(group)) + 1024));
    return by_smem < 1 ? 1 : by_smem > 3 ? 3 : by_smem;  // registers cap it at 3
  }
  /// A timeline preset's CTAs an SM (`preset_ctas`, measured for head dim 128's one-tile kernel)
  /// for units of `rows` query heads at `head_dim`, moved by the estimate's difference.
  static constexpr int ctas_per_sm_from_preset(int head_dim, int rows, int preset_ctas) {
    const int n = preset_ctas + ctas_per_sm_estimate(head_dim, rows) - ctas_per_sm_estimate(128, 1);
    return n < 1 ? 1 : n;
  }
};

}  // namespace lean
