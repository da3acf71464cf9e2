/*
 * Stand-in for QEMU in bench/run.ts. The first thing it does is read CLOCK_MONOTONIC (the clock
 * behind Node's process.hrtime.bigint()) and print "standin <ns> <pid>" on stdout with one write(2):
 * the moment the VM process exists. Then it exits at once, or, with BENCH_STANDIN_HOLD=1, waits for
 * a signal so the processes around it can be measured. Its arguments (QEMU's) are ignored.
 * Built by bench/standin.ts: cc -O2 -static standin.c.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int main(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  char line[80];
  int n = snprintf(line, sizeof line, "standin %lld %d\n", (long long)now.tv_sec * 1000000000LL + now.tv_nsec, (int)getpid());
  if (write(1, line, (size_t)n) != n) return 3;
  const char *hold = getenv("BENCH_STANDIN_HOLD");
  if (hold != NULL && hold[0] == '1') {
    close(1); /* nobody waits on our stdout while we are held */
    for (;;) pause(); /* until SIGTERM, which ends the process */
  }
  return 0;
}
