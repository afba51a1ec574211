// ONNX Runtime side of benchmarks/onnx: times one model at several batch sizes.
// usage: node ort_bench.js MODEL.onnx THREADS REPEATS RESULTS.json C H W BATCH...
// Each batch: one warm-up run, then REPEATS timed runs on the same random input; RESULTS.json
// gets {"version": ORT's, "best_ms": {"<batch>": best milliseconds, ...}}. Threads: intra-op
// THREADS, inter-op 1, sequential.
'use strict';
const fs = require('fs');
const path = require('path');
const ort = require(path.join(__dirname, '..', '..', 'node_modules', 'onnxruntime-node'));

async function main() {
  const [model, threads, repeats, results, c, h, w, ...batches] = process.argv.slice(2);
  const session = await ort.InferenceSession.create(model, {
    intraOpNumThreads: Number(threads), interOpNumThreads: 1, executionMode: 'sequential'});
  const best = {};
  for (const batch of batches.map(Number)) {
    const dims = [batch, Number(c), Number(h), Number(w)];
    const data = Float32Array.from({length: dims.reduce((a, b) => a * b)}, () => Math.random() - 0.5);
    const feeds = {[session.inputNames[0]]: new ort.Tensor('float32', data, dims)};
    await session.run(feeds);
    best[batch] = Infinity;
    for (let i = 0; i < Number(repeats); ++i) {
      const start = process.hrtime.bigint();
      await session.run(feeds);
      best[batch] = Math.min(best[batch], Number(process.hrtime.bigint() - start) / 1e6);
    }
  }
  fs.writeFileSync(results, JSON.stringify({version: ort.env.versions.node, best_ms: best}));
}

main().catch((e) => {
  process.stderr.write(`ort_bench.js: ${e.stack || e}\n`);
  process.exit(1);
});
