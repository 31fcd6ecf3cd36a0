/* LeanAttention decode on NVIDIA GPUs: C API.
 *
 * Plan on the host once per batch shape, run on the device every step:
 *   lean_plan_create   validate the problem, pick the grid (co-resident CTAs), build the schedule
 *   lean_plan_workspace_bytes / lean_plan_upload   caller-owned workspace; upload copies the
 *                      schedule arrays and zeroes the merge counters (once per plan+workspace)
 *   lean_decode        one launch, no host-device sync, no allocation; graph-capturable. The
 *                      kernel leaves the counters at zero for the next call.
 * Every call returns a status; lean_last_error() says what went wrong, naming the argument.
 */
#ifndef LEAN_CUDA_LEAN_DECODE_H
#define LEAN_CUDA_LEAN_DECODE_H

#include <cuda_runtime.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
  LEAN_OK = 0,
  LEAN_ERR_INVALID = 1,      /* bad shape, stride, pointer or size */
  LEAN_ERR_UNSUPPORTED = 2,  /* valid but not built: head dim, group size, tile */
  LEAN_ERR_WORKSPACE = 3,    /* workspace missing, misaligned or too small */
  LEAN_ERR_CUDA = 4          /* a CUDA call or launch failed */
} lean_status;

typedef enum { LEAN_FP16 = 0, LEAN_BF16 = 1 } lean_dtype;
typedef enum { LEAN_STREAM_K = 0, LEAN_FIXED_SPLIT = 1, LEAN_NO_SPLIT = 2 } lean_policy;

typedef struct {
  int batch;
  int num_q_heads;
  int num_kv_heads;
  int head_dim;                 /* 64, 128 or 256 */
  lean_dtype dtype;
  float scale;                  /* 0: 1/sqrt(head_dim) */
  int tile_kv;                  /* tokens per schedule tile, a multiple of 64; 0: 64 */
  const int64_t* seq_lens;      /* host [batch]; 0 allowed */
  int kv_page_size;             /* 0: the cache lean_decode sees is contiguous; else its page size.
                                   A hint for the grid: pages of 16 or 32 tokens by tensor loads
                                   keep two CTAs per SM */
} lean_problem;

/* K and V: element offsets of token t of sequence b, kv head h, dim d (d contiguous):
 *   contiguous (block_table == NULL): b*stride_seq + t*stride_token + h*stride_head + d
 *   paged:  block_table[b*block_table_stride + t/page_size]*stride_seq
 *           + (t%page_size)*stride_token + h*stride_head + d        (vLLM/FlashInfer layout) */
typedef struct {
  const void* k;
  const void* v;
  int64_t stride_seq;           /* per sequence (contiguous) or per page (paged), elements */
  int64_t stride_token;
  int64_t stride_head;
  const int32_t* block_table;   /* device [batch, block_table_stride] page ids, or NULL */
  int32_t block_table_stride;
  int32_t page_size;            /* 16 .. 256 when paged */
  int64_t num_pages;            /* pages addressable through k/v (bounds the block table) */
} lean_kv;

typedef struct lean_plan_s* lean_plan;

/* In a record (lean_decode's `record`), the merger of a unit merged by the separate merge kernel. */
enum { LEAN_RECORD_MERGE_KERNEL = -2 };

/* grid: stream-K CTAs (0: the planner's choice among co-resident grids on `device`, which may
 * also cut groups of more than 16 query heads into 16-row units where whole groups would leave SMs
 * idle; LEAN_ROW_SPLIT=0 in the environment keeps whole groups, =R forces R blocks at any grid), fixed-split splits (0: the
 * FlashAttention-2 heuristic), ignored for no-split. The merge tree's
 * fan-in is the planner's unless the environment sets LEAN_MERGE_FANIN (0: one merge per unit;
 * a tuning override for benchmarks). */
lean_status lean_plan_create(const lean_problem* problem, lean_policy policy, int grid, int device, lean_plan* out);
void lean_plan_destroy(lean_plan plan);
/* Programmatic dependent launch (compute capability 9.0): lean_decode's kernel may start while
 * the stream's previous kernel finishes, and waits (griddepcontrol.wait) for that kernel to
 * complete with its writes visible before it reads q, kv or the block table or writes anything.
 * Worth enabling when the previous kernel triggers its dependents early
 * (griddepcontrol.launch_dependents): its launch then leaves the critical path. Safe whatever
 * ran before: a predecessor that is not a kernel, or never triggers early, just serialises.
 * Default off (LEAN_PDL=1 turns it on for benchmarks). */
lean_status lean_plan_set_programmatic_launch(lean_plan plan, int enable);
size_t lean_plan_workspace_bytes(lean_plan plan);
int lean_plan_num_ctas(lean_plan plan);
/* Writes the schedule's one-line description into buf (truncated to len). */
void lean_plan_describe(lean_plan plan, char* buf, size_t len);
lean_status lean_plan_upload(lean_plan plan, void* workspace, size_t workspace_bytes, cudaStream_t stream);

/* q: device [batch, num_q_heads, head_dim]; o: same shape, element type; lse: device float
 * [batch, num_q_heads] natural-log sum-exp (-inf for an empty sequence), may be NULL.
 * record: NULL, or device int32 [num_ctas*4 + units] filled with what each CTA did
 * (tile begin, tile end, segments, merges performed) and which CTA merged each unit. */
lean_status lean_decode(lean_plan plan, const void* q, const lean_kv* kv, void* o, float* lse, void* workspace,
                        size_t workspace_bytes, int32_t* record, cudaStream_t stream);

/* lean_decode that also records, per CTA, int64 globaltimer stamps (ns):
 * trace[cta * (4 + 5*max_segments) + ...] = smid, t_start, t_end, segments, then for each of
 * its first max_segments segments: unit, t_begin, t_streamed, t_written, t_merged
 * (t_merged == t_written when this CTA did not merge). For measured timelines (lean timeline). */
lean_status lean_decode_trace(lean_plan plan, const void* q, const lean_kv* kv, void* o, float* lse, void* workspace,
                              size_t workspace_bytes, int64_t* trace, int max_segments, cudaStream_t stream);

/* The message of this thread's last failed call. */
const char* lean_last_error(void);

/* Bandwidth ceilings of the current device in GB/s, median of `reps`: a read-only stream of
 * 16-byte loads over `bytes`, and a device-to-device copy counting bytes read plus written. */
double lean_read_bandwidth_gbps(size_t bytes, int reps);
double lean_copy_bandwidth_gbps(size_t bytes, int reps);

#ifdef __cplusplus
}
#endif
#endif
