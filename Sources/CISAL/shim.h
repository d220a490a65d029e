// Intel ISA-L (apt: libisal-dev): its iSCSI CRC is CRC-32C (Castagnoli), the checksum of
// TensorFlow checkpoint blocks and tensors, with a hardware (SSE4.2/PCLMUL) path chosen at run time.
#include <isa-l/crc.h>
