// CenterNet detections from the original TF.js graph model, on TF.js's WebAssembly backend
// (its .wasm files ship inside the npm package; 20x faster than the pure-JS CPU backend).
// node tfjs_centernet.mjs TFJS_DIR MODEL_DIR INPUT.f32 OUTPUT.f32 [INPUT2.f32 OUTPUT2.f32 ...]
//   TFJS_DIR: where @tensorflow/tfjs-{core,converter,backend-wasm} are installed
//   MODEL_DIR: holds centernet.json + centernet.bin from @vladmandic/human
//   INPUT.f32: raw float32 1x512x512x3 (RGB 0-255); OUTPUT.f32 gets the raw 1x100x6 detections
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const [tfjsDir, modelDir, ...files] = process.argv.slice(2);
const require = createRequire(path.join(path.resolve(tfjsDir), 'package.json'));
const tf = require('@tensorflow/tfjs-core');
const wasm = require('@tensorflow/tfjs-backend-wasm');
const converter = require('@tensorflow/tfjs-converter');

wasm.setWasmPaths(path.join(path.resolve(tfjsDir), 'node_modules/@tensorflow/tfjs-backend-wasm/dist') + path.sep);
if (!(await tf.setBackend('wasm'))) throw new Error('TF.js WebAssembly backend failed to start');
const json = JSON.parse(fs.readFileSync(path.join(modelDir, 'centernet.json'), 'utf8'));
const bin = fs.readFileSync(path.join(modelDir, 'centernet.bin'));
const weightSpecs = json.weightsManifest.flatMap((group) => group.weights);
const weightData = bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength);
const model = await converter.loadGraphModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs, weightData }));
for (let i = 0; i + 1 < files.length; i += 2) {
  const raw = fs.readFileSync(files[i]);
  const input = tf.tensor(new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4), [1, 512, 512, 3]);
  const output = model.execute(input, 'tower_0/detections');
  fs.writeFileSync(files[i + 1], Buffer.from((await output.data()).buffer));
  tf.dispose([input, output]);
}
