#!/usr/bin/env bash
# gpu-check.sh: the one full check on a lent GPU machine, prepared here and run there.
#   scripts/gpu-check.sh prepare        here: portable build (x86-64-v3; GPU code for sm_90 and
#                                       compute_90 PTX only, the lent H100/H200, unless
#                                       GPU_CHECK_ARCH="80 90" etc.), its binaries stripped and
#                                       gzip'ed in .devkit/bin, .devkit/lib of their libraries
#                                       (libdnnl included; the large ones gzip'ed in .devkit/packed),
#                                       and the PyTorch peer scripts (.devkit/peers_gpu.py, peers.py)
#   scripts/gpu-check.sh run [STEPS]    there: STEPS is a comma list of the steps below, or
#                                         first = info,tests,conv,bw,peers,xformer (<= 9.5 min + 2;
#                                                 the one call to make when there is time for one)
#                                         check = info,tests,memcheck,racecheck,xformer-san (<= ~9 min)
#                                         bench = conv,bw,peers,xformer (<= ~10 min)
#                                         sanitize = memcheck,racecheck,xformer-san (<= ~7 min: a second call)
#                                         cpu = the host CPU beside PyTorch's CPU (<= ~7 min)
#     info       nvidia-smi, dlbench info
#     tests      the CUDA test suites (cuda_*), one worker
#     memcheck   compute-sanitizer memcheck on the CUDA suites of dlbench's own kernels (the cuDNN
#                tests run every cuDNN algorithm: too slow under the sanitizer, they run in tests)
#     racecheck  racecheck suite by suite on the kernels with shared memory (eltwise, train layers)
#     conv       issue 11's convolutions (fwd, bwd-data, bwd-filter: the four ResNet layers at N16 and
#                the MNIST CNN's two at N128) on cuda and cudnn, every dtype, and the MLP/CNN b128
#                training steps (resident, transfer, graph; fp32, fp16, bf16); every row verified
#                against the reference before it is timed (the quick suite has fewer of these);
#                cuDNN's search traced into the log (DLBENCH_CUDNN_TRACE); each cuda row's note
#                gives the implicit GEMM's time against im2col + cuBLAS (the faster one ran)
#     bw         STREAM copy/add/triad and ReLU at 2^27 elements, softmax and layer-norm 32768x1024,
#                fp32/fp16/bf16
#     peers      PyTorch on the same GPU: peers_gpu.py --only gemm,bw,xfer,conv,convbwd,train
#                ($PEERS_ONLY to choose others, e.g. adding attention,gpt)
#     cpupeers   PyTorch's CPU alone at all host threads (gemm, bf16 GEMM, conv, MLP/CNN steps,
#                attention, the GPT step), for a quick step that measured dlbench's CPU rows
#     cpu        the host CPU at all its threads (issue 10's goals): cpu and onednn on sgemm and bf16
#                GEMM 2048^3, conv fwd on the four ResNet layers (N16), MLP/CNN b128 SGD steps; then
#                PyTorch's CPU on the same work: peers.py --threads <cores> --only gemm,gemm_bf16,conv,train
#     cpuscale   issue 10's sgemm 2048^3 across thread counts (1, 2, 4, ... up to the cores): cpu and
#                onednn, then PyTorch's CPU (peers.py --only gemm --quick) at each count (<= ~3 min):
#                where the 16-thread gap to MKL opens; the cpu rows' impl (in the summary) gives each
#                way's first-call time (OpenBLAS, tiles, the own AVX-512 kernel, on 192-deep slices
#                where threads outnumber cores)
#     xformer    attention and the GPT step (issue 15, <= ~2 min): the attention rows (gpt.tiny, GPT-2
#                small/medium, Llama-style; fp32 and bf16; cuda and flash: each flash row's note gives
#                both variants' times, 16 and 32 rows per warp) and the GPT steps (gpt.tiny,
#                gpt2.small; fp32 and bf16; eager and CUDA graph), then peers_gpu.py --only attention,gpt
#     quick      the whole quick suite (`make bench`'s), timed (issue 12's goal: <= 120 s), with its
#                wall time per backend and workload and the accuracy of its ETA (run-breakdown.py);
#                the run folder comes back in the tar (a GPU baseline for results/baselines/)
#     nccl       NCCL: the MPI/NCCL test program on one GPU (a group of one rank; libnccl from the
#                PyTorch wheel when the system has none), and with mpirun and 2+ GPUs on all of them,
#                plus the collective and data-parallel rows across them (issue 16)
#     xformer-san  memcheck on the attention suite and the GPT layer/step tests, racecheck on the
#                attention suite (the fused kernels' shared-memory tiles) (<= ~2.5 min)
# Each step runs under its own timeout; every log lands in one tar, $OUT/gpu-check-<steps>.tar.gz,
# with summary-<steps>.txt beside it, both rewritten after every step. cuDNN comes from the PyTorch wheel (DESIGN.md pitfalls).
# The device call carries .devkit (binaries included) and runs `scripts/gpu-check.sh run ...`.
set -uo pipefail
cd "$(dirname "$0")/.."
B=${DLBENCH_BUILD:-build/marchx86-64-v3}   # another build folder only for trying the script out
ALL=info,tests,memcheck,racecheck,conv,bw,peers,xformer,xformer-san,cpu,quick,nccl   # all of it: more than one 10-minute device call
case "${1:-}" in
  prepare)
    mpi=(); command -v mpicc > /dev/null && mpi=("$B/dlbench-mpi-tests")   # MPI builds (harness/dist/dist.mk)
    # Only the architectures the lent machines have: each one is ~2.6 MB of flash SASS alone in each
    # of the three binaries, and the kit must stay under 64 MiB. The binaries are removed first so
    # they relink against this architecture list's objects (build/cuda-obj/sm<list>/).
    arch=${GPU_CHECK_ARCH:-90}
    rm -f "$B/dlbench" "$B/dlbench-tests" "${mpi[@]}"
    make -j2 MARCH=-march=x86-64-v3 CUDA_ARCH="$arch" "$B/dlbench" "$B/dlbench-tests" "${mpi[@]}" || exit 1
    ../shared/tools/device-kit.sh "$B/dlbench" "$B/dlbench-tests" "${mpi[@]}"
    cp -u ../shared/tools/peers_gpu.py .devkit/ 2>/dev/null || echo "gpu-check: no ../shared/tools/peers_gpu.py to carry" >&2
    cp -u ../shared/tools/peers.py .devkit/ 2>/dev/null || echo "gpu-check: no ../shared/tools/peers.py to carry" >&2
    # libdnnl is dlopen'ed, so ldd does not list it: add it and the one library of its own the GPU
    # machine may lack (libOpenCL)
    dnnl=$(ldconfig -p | awk '$1 == "libdnnl.so.2" {print $NF; exit}')
    if [ -n "$dnnl" ]; then
      cp -uL "$dnnl" .devkit/lib/libdnnl.so.2
      ldd "$dnnl" | awk '/libOpenCL/ {print $3}' | xargs -r cp -uL -t .devkit/lib/
    else echo "gpu-check: no libdnnl.so.2 here: the onednn rows will be skipped there" >&2; fi
    # The device carries 64 MiB in all; OpenBLAS (37 MB) and oneDNN (40 MB) travel gzip'ed (~20 MB)
    mkdir -p .devkit/packed
    find .devkit/lib -maxdepth 1 -type f -size +8M | while read -r lib; do
      gzip -c "$lib" > ".devkit/packed/${lib##*/}.gz" && rm "$lib"
    done
    # The binaries travel stripped and gzip'ed in .devkit/bin (~15 MB for the three, against ~60 MB
    # with their debug information), so .devkit alone stays under the 64 MiB a device call carries
    mkdir -p .devkit/bin
    rm -f .devkit/bin/*.gz
    for bin in "$B/dlbench" "$B/dlbench-tests" "${mpi[@]}"; do
      strip -o ".devkit/bin/${bin##*/}" "$bin" && gzip -f ".devkit/bin/${bin##*/}" || exit 1
    done
    echo "$arch" > .devkit/cuda-arch
    du -sh .devkit | sed "s/^/gpu-check: GPU code for sm_${arch// /, sm_}: /"
    [ "$(du -sm .devkit | cut -f1)" -lt 64 ] || echo "gpu-check: .devkit is over the 64 MiB a device call carries" >&2
    ;;
  run)
    steps=
    for s in $(echo "${2:-$ALL}" | tr ',' ' '); do
      case $s in
        first) steps+=,info,tests,conv,bw,peers,xformer ;;
        check) steps+=,info,tests,memcheck,racecheck,xformer-san ;;
        bench) steps+=,conv,bw,peers,xformer ;;
        sanitize) steps+=,memcheck,racecheck,xformer-san ;;
        info|tests|memcheck|racecheck|conv|train|bw|peers|cpu|cpupeers|cpuscale|quick|nccl|xformer|xformer-san) steps+=,$s ;;
        *) echo "gpu-check: unknown step $s" >&2; exit 2 ;;
      esac
    done
    steps=${steps#,}
    out=${OUT:-/tmp/gpu-check}; mkdir -p "$out"
    logs=$(mktemp -d /tmp/gpu-check-logs.XXXXXX)
    export LD_LIBRARY_PATH=$PWD/.devkit/lib:${LD_LIBRARY_PATH:-}
    mkdir -p "$B"
    for gz in .devkit/bin/*.gz; do   # the binaries prepare packed, unless the build folder came too
      [ -f "$gz" ] && bin=$B/$(basename "$gz" .gz) && { [ "$bin" -nt "$gz" ] || { gunzip -c "$gz" > "$bin" && chmod +x "$bin"; }; }
    done
    for gz in .devkit/packed/*.gz; do   # unpack what prepare packed
      [ -f "$gz" ] && lib=.devkit/lib/$(basename "$gz" .gz) && { [ -f "$lib" ] || gunzip -c "$gz" > "$lib"; }
    done
    cudnn=$(python3 -c 'import nvidia.cudnn,os;print(os.path.dirname(nvidia.cudnn.__file__))' 2>/dev/null)
    if [ -n "$cudnn" ]; then export LD_LIBRARY_PATH=$cudnn/lib:$LD_LIBRARY_PATH; fi
    export DLBENCH_BIN=$PWD/$B/dlbench DLBENCH_PRICES=$PWD/bench/prices.csv
    T=$B/dlbench-tests
    has() { [[ ",$steps," == *",$1,"* ]]; }
    # step NAME SECONDS CMD...: runs CMD under a timeout, its output in $logs/NAME.log
    step() {
      local name=$1 secs=$2; shift 2
      local t0=$SECONDS
      timeout -k 10 "$secs" "$@" > "$logs/$name.log" 2>&1
      local rc=$?
      echo "$name: exit $rc$([ $rc -eq 124 ] && echo ' (timed out)') in $((SECONDS - t0)) s" | tee -a "$logs/summary.txt"
      pack   # after every step: a device call cut short still brings back what ran
      return $rc
    }
    tag=${steps//,/-}
    pack() { cp "$logs/summary.txt" "$out/summary-$tag.txt"; tar -C "$logs" -czf "$out/gpu-check-$tag.tar.gz" .; }
    echo "gpu-check $steps; cuDNN from ${cudnn:-nowhere (no nvidia.cudnn)}" | tee "$logs/summary.txt"
    # The kit holds SASS for .devkit/cuda-arch and PTX of the last: an older GPU cannot run it.
    cc=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -1 | tr -d .)
    kit_arch=$(cat .devkit/cuda-arch 2>/dev/null)
    if [ -n "$cc" ] && [ -n "$kit_arch" ] && [ "$cc" -lt "${kit_arch%% *}" ]; then
      echo "gpu-check: this GPU is sm_$cc, the kit has code for sm_${kit_arch// /, sm_} and newer: prepare with GPU_CHECK_ARCH=\"$cc ${kit_arch}\"" | tee -a "$logs/summary.txt"
    fi
    if has info; then
      step nvidia-smi 20 nvidia-smi
      step info 20 "$B/dlbench" info --no-ceilings
    fi
    if has tests; then
      step tests 180 "$T" --filter='cuda_*/*' -j1 --verbose=1   # cuda_attention and cuda_gpt: ~40 s of it
      grep -E '^\[(FAIL|----)\]|Synthesis' "$logs/tests.log" | tail -30 >> "$logs/summary.txt"
    fi
    if has quick; then
      step quick 240 "$B/dlbench" run --suite quick --out "$logs/run-quick"
      grep -m1 'rows planned' "$logs/quick.log" >> "$logs/summary.txt"
      python3 scripts/run-breakdown.py "$logs/run-quick" "$logs/quick.log" > "$logs/breakdown.md" 2>&1
      tail -1 "$logs/breakdown.md" >> "$logs/summary.txt"
      head -30 "$logs/run-quick/report.md" > "$logs/report-quick-first-30-lines.md" 2>/dev/null   # the answer, as a buyer reads it
    fi
    if has memcheck; then
      step memcheck 200 compute-sanitizer --tool memcheck --error-exitcode 3 "$T" --filter='cuda_!(attention|gpt)/!(cudnn*)' -j1
      grep -E 'ERROR SUMMARY|Synthesis' "$logs/memcheck.log" | tail -3 >> "$logs/summary.txt"
    fi
    if has racecheck; then
      step racecheck-eltwise 90 compute-sanitizer --tool racecheck --error-exitcode 3 "$T" --filter='cuda_eltwise/*' -j1
      step racecheck-train 50 compute-sanitizer --tool racecheck --error-exitcode 3 "$T" \
        --filter='cuda_train/@(layer_ops_match_references|next_batch_picks_by_the_device_count)' -j1
      grep -hE 'RACECHECK SUMMARY|Synthesis' "$logs"/racecheck-*.log >> "$logs/summary.txt"
    fi
    if has conv || has train; then
      # issue 11's convolution and training rows on both GPU backends, every dtype
      # DLBENCH_CUDNN_TRACE: cuDNN's search (every path, every timed engine) lands in the log
      step bench-conv-train 210 env DLBENCH_CUDNN_TRACE=1 "$B/dlbench" run --backend cuda,cudnn --workload conv_fwd,conv_bwd_data,conv_bwd_filter,train \
        --filter '@(resnet50.@(res2.3x3|res2.1x1-expand|res3.3x3|res4.3x3).b16|mnist-cnn.conv[12].b128|@(mlp|cnn).b128.*)' \
        --min-time 0.1 --max-time 0.3 --out "$logs/run-conv-train"
      tail -4 "$logs/bench-conv-train.log" >> "$logs/summary.txt"
      head -30 "$logs/run-conv-train/report.md" > "$logs/report-first-30-lines.md" 2>/dev/null   # the answer on top
    fi
    if has bw; then
      step bench-stream 60 "$B/dlbench" run --suite quick --backend cuda --workload stream,eltwise \
        --filter '*/@(copy|add|triad|relu_fwd)' --size 134217728 --out "$logs/run-stream"
      step bench-rows 40 "$B/dlbench" run --suite quick --backend cuda --workload eltwise \
        --filter '*/@(softmax|layernorm)' --size 32768x1024 --out "$logs/run-rows"
    fi
    if has peers; then
      peers=$(ls .devkit/peers_gpu.py shared/tools/peers_gpu.py ../shared/tools/peers_gpu.py 2>/dev/null | head -1)
      if [ -n "$peers" ]; then step peers 150 python3 "$peers" --only "${PEERS_ONLY:-gemm,bw,xfer,conv,convbwd,train}" --min-time 0.1
      else echo "peers: peers_gpu.py not found (run prepare here first)" | tee -a "$logs/summary.txt"; fi
    fi
    if has cpupeers && ! has cpu; then   # PyTorch's CPU alone (the quick step measured dlbench's CPU rows)
      peers=$(ls .devkit/peers.py shared/tools/peers.py ../shared/tools/peers.py 2>/dev/null | head -1)
      if [ -n "$peers" ]; then step cpu-peers 150 python3 "$peers" --threads "$(nproc)" --only gemm,gemm_bf16,conv,train,attention,gpt
      else echo "cpu-peers: peers.py not found (run prepare here first)" | tee -a "$logs/summary.txt"; fi
    fi
    if has cpu; then
      step cpu-dlbench 240 "$B/dlbench" run --suite quick --backend cpu,onednn --workload gemm,conv_fwd,train \
        --dtype fp32,bf16 --filter '@(gemm/sq2048|conv_fwd/resnet50.*|train/*.b128.sgd.resident)' --out "$logs/run-cpu"
      grep -A8 '^## Headline' "$logs/run-cpu/report.md" >> "$logs/summary.txt" 2>/dev/null
      peers=$(ls .devkit/peers.py shared/tools/peers.py ../shared/tools/peers.py 2>/dev/null | head -1)
      if [ -n "$peers" ]; then step cpu-peers 180 python3 "$peers" --threads "$(nproc)" --only gemm,gemm_bf16,conv,train
      else echo "cpu-peers: peers.py not found (run prepare here first)" | tee -a "$logs/summary.txt"; fi
    fi
    if has cpuscale; then   # issue 10: sgemm 2048^3 at 1, 2, 4, ... threads, dlbench then PyTorch
      cores=$(nproc); ts=1; t=2
      while [ "$t" -lt "$cores" ]; do ts+=,$t; t=$((t * 2)); done
      [ "$cores" -gt 1 ] && ts+=,$cores
      step cpuscale-dlbench 120 "$B/dlbench" run --suite quick --backend cpu,onednn --workload gemm --dtype fp32 \
        --filter gemm/sq2048 --threads "$ts" --min-time 0.3 --max-time 1 --out "$logs/run-cpuscale"
      sed -n '/^## CPU thread scaling/,/^## [^C]/p' "$logs/run-cpuscale/report.md" >> "$logs/summary.txt" 2>/dev/null
      python3 -c 'import csv,sys
for f in sys.argv[1:]:
    for r in csv.DictReader(open(f)): print(f.split("/")[-2], r["backend"], r["threads"], r["gflops"], r["impl"])' \
        "$logs/run-cpuscale/results.csv" >> "$logs/summary.txt" 2>/dev/null
      peers=$(ls .devkit/peers.py shared/tools/peers.py ../shared/tools/peers.py 2>/dev/null | head -1)
      for t in ${ts//,/ }; do
        [ -n "$peers" ] && step "cpuscale-peers-$t" 40 python3 "$peers" --threads "$t" --only gemm --quick
      done
      grep -h '2048x2048' "$logs"/cpuscale-peers-*.log >> "$logs/summary.txt" 2>/dev/null
    fi
    if has xformer-san; then
      step memcheck-xformer 100 compute-sanitizer --tool memcheck --error-exitcode 3 "$T" -j1 \
        --filter='@(cuda_attention/*|cuda_gpt/@(transformer_ops|fp32_step|bf16_step)*)'
      step racecheck-attention 60 compute-sanitizer --tool racecheck --error-exitcode 3 "$T" --filter='cuda_attention/*' -j1
      grep -hE 'ERROR SUMMARY|RACECHECK SUMMARY|Synthesis' "$logs"/memcheck-xformer.log "$logs"/racecheck-attention.log >> "$logs/summary.txt"
    fi
    if has xformer; then
      step bench-xformer 130 "$B/dlbench" run --backend cuda,flash --workload attention_fwd,attention_fwd_bwd,train \
        --filter '*/[gl]*' --dtype fp32,bf16 --min-time 0.05 --max-time 0.5 --out "$logs/run-xformer"
      tail -4 "$logs/bench-xformer.log" >> "$logs/summary.txt"
      sed -n '/^## Transformer training/,/^## /p' "$logs/run-xformer/report.md" > "$logs/report-gpt.md" 2>/dev/null
      peers=$(ls .devkit/peers_gpu.py shared/tools/peers_gpu.py ../shared/tools/peers_gpu.py 2>/dev/null | head -1)
      if [ -n "$peers" ]; then step peers-xformer 90 python3 "$peers" --only attention,gpt --min-time 0.1
      else echo "peers-xformer: peers_gpu.py not found (run prepare here first)" | tee -a "$logs/summary.txt"; fi
    fi
    if has nccl; then
      # NCCL: libnccl from the PyTorch wheel when the system has none. One GPU: a group of one rank
      # (dlopen, ncclGetUniqueId, ncclCommInitRank, the four operations fp32/bf16 at awkward counts,
      # gradient sums on the side stream), no launcher needed. 2+ GPUs and mpirun: all of them.
      if [ -x "$B/dlbench-mpi-tests" ]; then
        nccl=$(python3 -c 'import nvidia.nccl, os; print(os.path.join(list(nvidia.nccl.__path__)[0], "lib"))' 2>/dev/null) &&
          export LD_LIBRARY_PATH=$nccl:$LD_LIBRARY_PATH
        step nccl-1gpu 60 "$B/dlbench-mpi-tests" cuda
        grep -cE '^(not )?ok' "$logs/nccl-1gpu.log" | sed 's/^/nccl, one GPU: TAP lines: /' >> "$logs/summary.txt"
        grep -E '^not ok|SKIP' "$logs/nccl-1gpu.log" | head -5 >> "$logs/summary.txt"
        ngpu=$(nvidia-smi -L 2>/dev/null | grep -c '^GPU')
        if command -v mpirun > /dev/null && [ "$ngpu" -ge 2 ]; then
          export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
          step nccl-ngpu 120 mpirun -n "$ngpu" -x LD_LIBRARY_PATH "$B/dlbench-mpi-tests" cuda
          step bench-ranks 180 mpirun -n "$ngpu" -x LD_LIBRARY_PATH "$B/dlbench" run --suite quick --backend cuda --no-ceilings \
            --workload allreduce,allgather,reducescatter,broadcast,dp-train --out "$logs/run-$ngpu-gpus" --quiet
        fi
      else echo "nccl: no $B/dlbench-mpi-tests (built only where MPI is)" | tee -a "$logs/summary.txt"; fi
    fi
    pack
    cat "$out/summary-$tag.txt"
    rm -rf "$logs"
    ;;
  *) echo "usage: scripts/gpu-check.sh prepare | run [first | check | bench | sanitize | cpu | info,tests,memcheck,racecheck,conv,bw,peers,cpu,quick,nccl,xformer,xformer-san]" >&2; exit 2 ;;
esac
