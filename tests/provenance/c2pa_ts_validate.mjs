// Validate files with @trustnxt/c2pa-ts, an independent TypeScript C2PA implementation.
//
// Usage: node c2pa_ts_validate.mjs PACKAGE_DIR FILE...
// PACKAGE_DIR is the npm prefix holding node_modules/@trustnxt/c2pa-ts (make c2pa-ts).
// Prints one JSON object per file: {file, supported, manifest, valid, codes: [{code, success}]}.
//
// c2pa-ts 0.9.4 reads JPEG, PNG and ISO-BMFF files whose brands are HEIC/HEIF (mif1). Its BMFF
// hashing (c2pa.hash.bmff.v2/v3) does not depend on the brand, so MP4/MOV brands are added to
// the list it accepts; WebP and AVI it cannot read at all ("supported": false).
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';

// c2pa-ts uses the WebCrypto global, which Node before 19 keeps under node:crypto.
if (!globalThis.crypto?.subtle) globalThis.crypto = (await import('node:crypto')).webcrypto;

const [packageDir, ...files] = process.argv.slice(2);
const root = path.join(packageDir, 'node_modules', '@trustnxt', 'c2pa-ts');
const exportsMap = JSON.parse(await fs.readFile(path.join(root, 'package.json'), 'utf8')).exports;
const load = (sub) => import(pathToFileURL(path.join(root, exportsMap[sub].import)).href);
const { BMFF, JPEG, PNG } = await load('./asset');
const { SuperBox } = await load('./jumbf');
const { ManifestStore, ValidationResult } = await load('./manifest');

for (const brand of ['isom', 'iso2', 'mp41', 'mp42', 'qt  ', 'avif']) BMFF.canReadBrands.add(brand);

for (const file of files) {
  const data = new Uint8Array(await fs.readFile(file));
  const reader = [JPEG, PNG, BMFF].find((kind) => kind.canRead(data));
  if (!reader) {
    console.log(JSON.stringify({ file, supported: false }));
    continue;
  }
  const asset = new reader(data);
  const jumbf = asset.getManifestJUMBF();
  if (!jumbf) {
    console.log(JSON.stringify({ file, supported: true, manifest: false }));
    continue;
  }
  let result;
  try {
    result = await ManifestStore.read(SuperBox.fromBuffer(jumbf)).validate(asset);
  } catch (error) {
    result = ValidationResult.fromError(error);
  }
  const codes = result.statusEntries.map((entry) => ({ code: entry.code, success: entry.success }));
  console.log(JSON.stringify({ file, supported: true, manifest: true, valid: result.isValid, codes }));
}
