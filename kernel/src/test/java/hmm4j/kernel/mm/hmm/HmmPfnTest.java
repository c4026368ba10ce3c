package hmm4j.kernel.mm.hmm;

import static hmm4j.kernel.mm.hmm.HmmPfn.HMM_PFN_DMA_MAPPED;
import static hmm4j.kernel.mm.hmm.HmmPfn.HMM_PFN_ERROR;
import static hmm4j.kernel.mm.hmm.HmmPfn.HMM_PFN_FLAGS;
import static hmm4j.kernel.mm.hmm.HmmPfn.HMM_PFN_INOUT_FLAGS;
import static hmm4j.kernel.mm.hmm.HmmPfn.HMM_PFN_ORDER_SHIFT;
import static hmm4j.kernel.mm.hmm.HmmPfn.HMM_PFN_P2PDMA;
import static hmm4j.kernel.mm.hmm.HmmPfn.HMM_PFN_P2PDMA_BUS;
import static hmm4j.kernel.mm.hmm.HmmPfn.HMM_PFN_REQ_FAULT;
import static hmm4j.kernel.mm.hmm.HmmPfn.HMM_PFN_REQ_WRITE;
import static hmm4j.kernel.mm.hmm.HmmPfn.HMM_PFN_VALID;
import static hmm4j.kernel.mm.hmm.HmmPfn.HMM_PFN_WRITE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import hmm4j.kernel.mm.Page;
import hmm4j.kernel.mm.PhysMem;
import hmm4j.sim.Kernel;
import org.junit.jupiter.api.Test;

/** The {@code hmm_pfns} encoding of the newest mainline (kernel-spec §4.2) and its helpers. */
class HmmPfnTest {

    @Test
    void flagBits_areThoseOfTheNewestMainline() {
        assertEquals(0x8000_0000_0000_0000L, HMM_PFN_VALID);
        assertEquals(0x4000_0000_0000_0000L, HMM_PFN_WRITE);
        assertEquals(0x2000_0000_0000_0000L, HMM_PFN_ERROR);
        assertEquals(0x1000_0000_0000_0000L, HMM_PFN_DMA_MAPPED);
        assertEquals(0x0800_0000_0000_0000L, HMM_PFN_P2PDMA);
        assertEquals(0x0400_0000_0000_0000L, HMM_PFN_P2PDMA_BUS);
        assertEquals(53, HMM_PFN_ORDER_SHIFT);
        assertEquals(0xFFE0_0000_0000_0000L, HMM_PFN_FLAGS);
        assertEquals(HMM_PFN_VALID, HMM_PFN_REQ_FAULT);
        assertEquals(HMM_PFN_WRITE, HMM_PFN_REQ_WRITE);
        assertEquals(0x1C00_0000_0000_0000L, HMM_PFN_INOUT_FLAGS);
    }

    @Test
    void helpers_stripEveryFlagAndTheOrder() {
        long x = HMM_PFN_VALID | HMM_PFN_WRITE | HMM_PFN_DMA_MAPPED | (9L << HMM_PFN_ORDER_SHIFT) | 0x1_2345L;
        assertEquals(0x1_2345L, HmmPfn.pfn(x));
        assertEquals(0x1_2345L << 12, HmmPfn.hmmPfnToPhys(x));
        assertEquals(9, HmmPfn.hmmPfnToMapOrder(x));
        assertEquals(0, HmmPfn.hmmPfnToMapOrder(HMM_PFN_VALID | 0x1_2345L));
        long largestPfn = (1L << HMM_PFN_ORDER_SHIFT) - 1;
        assertEquals(largestPfn, HmmPfn.pfn(HMM_PFN_VALID | largestPfn));
    }

    @Test
    void hmmPfnToPage_findsThePageOfAValidEntry() {
        Kernel k = Kernel.controlled(1);
        PhysMem phys = PhysMem.of(k);
        Page p = phys.allocPage();
        assertSame(p, HmmPfn.hmmPfnToPage(phys, HMM_PFN_VALID | HMM_PFN_P2PDMA | p.pfn()));
        assertSame(phys.zeroPage(), HmmPfn.hmmPfnToPage(phys, HMM_PFN_VALID | PhysMem.ZERO_PFN));
        assertNull(HmmPfn.hmmPfnToPage(phys, HMM_PFN_VALID | 0x7_0000L), "a pfn that never had a page");
    }

    @Test
    void writeOutput_keepsOnlyTheStickyBitsOfTheOldEntry() {
        long old = HMM_PFN_REQ_FAULT | HMM_PFN_REQ_WRITE | HMM_PFN_DMA_MAPPED | HMM_PFN_P2PDMA_BUS | 0x777L;
        assertEquals(HMM_PFN_DMA_MAPPED | HMM_PFN_P2PDMA_BUS | HMM_PFN_ERROR, HmmPfn.writeOutput(old, HMM_PFN_ERROR));
        assertEquals(HMM_PFN_DMA_MAPPED | HMM_PFN_P2PDMA_BUS, HmmPfn.writeOutput(old, 0));
        assertEquals(HMM_PFN_P2PDMA | HMM_PFN_VALID | 5, HmmPfn.writeOutput(HMM_PFN_P2PDMA | HMM_PFN_WRITE, HMM_PFN_VALID | 5));
    }

    @Test
    void toString_namesTheFlags() {
        assertEquals("V W DMA_MAPPED pfn=0x2a", HmmPfn.toString(HMM_PFN_VALID | HMM_PFN_WRITE | HMM_PFN_DMA_MAPPED | 42));
        assertEquals("ERROR pfn=0x0", HmmPfn.toString(HMM_PFN_ERROR));
        assertEquals("V order=9 pfn=0x200", HmmPfn.toString(HMM_PFN_VALID | (9L << HMM_PFN_ORDER_SHIFT) | 0x200));
    }
}
