// doctest's main(): `build/host_tests --help` lists its options (-ts=<suite>, -tc=<case>, -s).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
