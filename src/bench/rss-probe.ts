// Preloaded (node --require) into a benchmarked child: reports its peak RSS and CPU time on exit.
process.on('exit', () => {
  const u = process.resourceUsage();
  process.stderr.write(`BENCH_MAXRSS_KB=${u.maxRSS} BENCH_CPU_S=${(u.userCPUTime + u.systemCPUTime) / 1e6}\n`);
});
