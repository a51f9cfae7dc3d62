// GNU OpenMP (libgomp, part of GCC): the thread pool oneDNN runs on. The Swift compute loops run
// on the same pool through GOMP_parallel, so the machine's cores are never shared by two pools
// (idle OpenMP threads spin and would steal cycles from any other pool).
#ifndef SR_OMP_SHIM_H
#define SR_OMP_SHIM_H
extern void GOMP_parallel(void (*fn)(void *), void *data, unsigned num_threads, unsigned int flags);
extern void GOMP_barrier(void);
extern int omp_get_thread_num(void);
extern int omp_get_num_threads(void);
extern void omp_set_num_threads(int);
extern int omp_get_max_threads(void);
#endif
