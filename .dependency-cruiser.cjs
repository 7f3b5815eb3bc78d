// Imports run one way: each folder of src/ may import only the folders before it in LAYERS.
// The product stages come first, in the data's order; the tools (testkit, lab, bench) last, so no
// product code depends on them. `npm test` runs this: a back-edge fails the tests.
const LAYERS = [
  'util',
  'capture',
  'flow',
  'rules',
  'features',
  'model',
  'store',
  'export',
  'monitor',
  'tui',
  'cli',
  'testkit',
  'lab',
  'bench',
];

const forbidden = LAYERS.map((layer, i) => ({
  name: `${layer}-imports-only-lower-layers`,
  comment: `src/${layer} may import only ${LAYERS.slice(0, i).join(', ') || 'itself'}`,
  severity: 'error',
  from: { path: `^src/${layer}/` },
  to: { path: `^src/(${LAYERS.slice(i + 1).join('|')})/` },
}));
forbidden.push(
  {
    name: 'no-unknown-src-folder',
    comment: 'every src/ folder has a place in LAYERS (.dependency-cruiser.cjs)',
    severity: 'error',
    from: { path: '^src/' },
    to: { path: `^src/(?!(${LAYERS.join('|')})/)` },
  },
  {
    name: 'no-unknown-src-folder-importing',
    comment: 'a src/ folder outside LAYERS is unchecked: give it a place in LAYERS (.dependency-cruiser.cjs)',
    severity: 'error',
    from: { path: `^src/(?!(${LAYERS.join('|')})/)` },
    to: {},
  },
  {
    name: 'src-never-imports-tests',
    severity: 'error',
    from: { path: '^src/' },
    to: { path: '^test/' },
  },
  {
    name: 'no-circular',
    comment: 'no import cycles between files either',
    severity: 'error',
    from: {},
    to: { circular: true },
  },
);

module.exports = {
  forbidden,
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
