/* fuzz_hwloc_xml.c - arbitrary bytes as $HWSCOPE_HWLOC_XML: hwscope reads the file (bounded,
 * without blocking) and passes it to hwloc as a buffer; the CPU probe returns facts or an error
 * naming the variable, never crashes. The sysroot is an empty scratch folder, so the run spends
 * its time on the XML. */
#include "hwscope/probe.h"
#include "util/sysfs.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static char root[64], xml[96];
    if (root[0] == '\0') {
        snprintf(root, sizeof root, "/tmp/hws_fuzz_hwloc_%d", (int)getpid());
        mkdir(root, 0700);
        hws_sysroot_set(root);
        snprintf(xml, sizeof xml, "%s/topology.xml", root);
        setenv("HWSCOPE_HWLOC_XML", xml, 1);
    }
    FILE *f = fopen(xml, "wb");
    if (f == NULL)
        return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    hws_cpu_info *cpu = malloc(sizeof *cpu);
    hws_error err;
    if (cpu != NULL && hws_probe_cpu(cpu, &err) != HWS_OK &&
        strstr(err.msg, "HWSCOPE_HWLOC_XML=") == NULL)
        abort();
    free(cpu);
    return 0;
}
