// idle_threads N: starts N threads that sleep until the process is killed,
// then prints "ready" and sleeps too. The container of the loadavg
// benchmark (bench/driver.py loadcost) runs it to give the renderer N idle
// threads to sample. Small stacks: 20,000 threads fit in ~400 MiB.
#include <pthread.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

namespace {

void* Sleep(void*) {
  for (;;) ::pause();
}

}  // namespace

int main(int argc, char** argv) {
  const long n = argc > 1 ? std::strtol(argv[1], nullptr, 10) : 0;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, 64 << 10);
  for (long i = 0; i < n; ++i) {
    pthread_t t;
    if (int err = pthread_create(&t, &attr, Sleep, nullptr); err != 0) {
      std::fprintf(stderr, "idle_threads: thread %ld: error %d\n", i, err);
      return 1;
    }
  }
  std::printf("ready\n");
  std::fflush(stdout);
  for (;;) ::pause();
}
