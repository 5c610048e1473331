/* tirelay entry point (being wired up; see relay/relay.h). */
#include <stdio.h>

int main(void)
{
    printf("tirelay %s\n", TR_VERSION);
    return 0;
}
