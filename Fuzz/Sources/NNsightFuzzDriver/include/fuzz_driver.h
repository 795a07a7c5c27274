/* libFuzzer's entry point for a program with its own main (SwiftPM gives every executable a
 * `main` of its own, so libFuzzer's cannot be used): runs the fuzzing loop over `test_one_input`
 * with the command-line options in argc/argv, and returns the exit status. */
#ifndef NNSIGHT_FUZZ_DRIVER_H
#define NNSIGHT_FUZZ_DRIVER_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*test_one_input)(const uint8_t *data, size_t size));

#endif
