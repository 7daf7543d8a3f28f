#ifndef PATCHBAY_CFUZZERDRIVER_H
#define PATCHBAY_CFUZZERDRIVER_H
#include <stddef.h>
#include <stdint.h>

/// libFuzzer's entry for programs that keep their own main (SwiftPM renames an executable's main, so libFuzzer's
/// own main cannot be used). Defined by libFuzzer, linked only in the -sanitize=fuzzer build.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#endif
