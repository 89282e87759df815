/* ProcessPrng for Wine 8 (Debian 12), which lacks bcryptprimitives.dll: Rust's standard library
 * draws its random numbers from it on Windows, and an .exe importing it does not start under
 * Wine 8. Windows 10 and later have the real one. Built by .ci/windows next to diaoyan.exe, so
 * the Windows build can be run under Wine in the tests; never shipped. */
#include <windows.h>
#include <ntsecapi.h>

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
  while (len > 0) {
    ULONG n = len > 0x10000000 ? 0x10000000 : (ULONG)len;
    if (!RtlGenRandom(data, n)) return FALSE;
    data += n;
    len -= n;
  }
  return TRUE;
}
