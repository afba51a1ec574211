// Runs ONNX models in ONNX Runtime (onnxruntime-node, installed by scripts/setup.sh) for the
// export tests. usage: node ort_run.js JOBS.json RESULTS.json
// JOBS.json: [{"model": "a.onnx", "input": "x.bin", "dims": [N, C, H, W], "output": "y.bin"}, ...]
// with raw little-endian float32 files. Each run's output goes to its "output" file; RESULTS.json
// gets one array with, per run, {"dims": [...]} or {"error": "..."} (a model ORT refuses, or an
// input it rejects, is a result, not a crash). Exits non-zero only when the jobs cannot be read.
'use strict';
const fs = require('fs');
const path = require('path');
const ort = require(path.join(__dirname, '..', '..', '..', 'node_modules', 'onnxruntime-node'));

function readFloats(file) {
  const bytes = fs.readFileSync(file);
  // A copy: the Buffer may start at an offset that is not a multiple of 4.
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
}

async function main() {
  const jobs = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  const sessions = new Map();
  const results = [];
  for (const job of jobs) {
    try {
      if (!sessions.has(job.model)) {
        sessions.set(job.model, await ort.InferenceSession.create(job.model, {
          intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential'}));
      }
      const session = sessions.get(job.model);
      const input = new ort.Tensor('float32', readFloats(job.input), job.dims);
      const output = (await session.run({[session.inputNames[0]]: input}))[session.outputNames[0]];
      fs.writeFileSync(job.output, Buffer.from(output.data.buffer, output.data.byteOffset,
                                               output.data.byteLength));
      results.push({dims: output.dims.map(Number)});
    } catch (e) {
      results.push({error: String(e && e.message ? e.message : e)});
    }
  }
  fs.writeFileSync(process.argv[3], JSON.stringify(results));
}

main().catch((e) => {
  process.stderr.write(`ort_run.js: ${e.stack || e}\n`);
  process.exit(2);
});
