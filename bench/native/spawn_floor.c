/* The kernel's floor for what uet's spawner does per program, without .NET: W threads, each starting /usr/bin/true
 * N times with the attributes uet uses (own session, stdin /dev/null, stdout+stderr on one pipe, closefrom 3,
 * SIGPIPE default, empty mask), reading the pipe to its end and reaping the child, blocking all the way.
 *
 *   gcc -O2 -pthread -o /tmp/spawn_floor bench/native/spawn_floor.c && /tmp/spawn_floor 1500 2
 *
 * Prints ms per program (wall time / programs). Compare with the bench's "spawn floor, uet's spawner" lines. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;
static int count;

static void *work(void *unused)
{
    (void)unused;
    char *argv[] = {"true", NULL};
    for (int i = 0; i < count; i++) {
        int fds[2];
        if (pipe2(fds, O_CLOEXEC) != 0) { perror("pipe2"); exit(1); }
        posix_spawn_file_actions_t actions;
        posix_spawnattr_t attr;
        posix_spawn_file_actions_init(&actions);
        posix_spawnattr_init(&attr);
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
        posix_spawn_file_actions_adddup2(&actions, fds[1], 2);
        posix_spawn_file_actions_addchdir_np(&actions, "/tmp");
        posix_spawn_file_actions_addclosefrom_np(&actions, 3);
        sigset_t defaults, mask;
        sigemptyset(&defaults);
        sigaddset(&defaults, SIGPIPE);
        sigemptyset(&mask);
        posix_spawnattr_setsigdefault(&attr, &defaults);
        posix_spawnattr_setsigmask(&attr, &mask);
        posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
        pid_t pid;
        int error = posix_spawn(&pid, "/usr/bin/true", &actions, &attr, argv, environ);
        if (error != 0) { fprintf(stderr, "posix_spawn: %d\n", error); exit(1); }
        close(fds[1]);
        char buffer[4096];
        while (read(fds[0], buffer, sizeof buffer) > 0) { }
        close(fds[0]);
        int status;
        waitpid(pid, &status, 0);
        posix_spawn_file_actions_destroy(&actions);
        posix_spawnattr_destroy(&attr);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 3) { fprintf(stderr, "usage: %s PROGRAMS-PER-THREAD THREADS\n", argv[0]); return 2; }
    count = atoi(argv[1]);
    int threads = atoi(argv[2]);
    if (count <= 0 || threads <= 0 || threads > 64) { fprintf(stderr, "bad arguments\n"); return 2; }
    pthread_t ids[64];
    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (int i = 0; i < threads; i++) pthread_create(&ids[i], NULL, work, NULL);
    for (int i = 0; i < threads; i++) pthread_join(ids[i], NULL);
    clock_gettime(CLOCK_MONOTONIC, &end);
    double ms = (end.tv_sec - start.tv_sec) * 1e3 + (end.tv_nsec - start.tv_nsec) / 1e6;
    printf("%.3f ms per program, %d at a time\n", ms / ((double)count * threads), threads);
    return 0;
}
