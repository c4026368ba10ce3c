package hmm4j.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import org.junit.jupiter.api.Test;

/** Operations are values: one made by {@code Op.of} (label made when read) equals one given its label. */
class OpTest {
    private static final Op.Kind LOCK = new Op.Kind("mutex_lock", Op.Access.WRITE);

    @Test
    void of_labelIsKindOfTarget_madeOnce_andEqualToAGivenLabel() {
        Op.Target t = new Op.Target(7, "dmirror->mutex");
        Op lazy = Op.of(LOCK, t);
        Op given = new Op(LOCK, t, "mutex_lock(dmirror->mutex)");
        assertEquals(given, lazy);
        assertEquals(given.hashCode(), lazy.hashCode());
        assertEquals("mutex_lock(dmirror->mutex)", lazy.label());
        assertSame(lazy.label(), lazy.label(), "built once");
        assertEquals("mutex_lock(dmirror->mutex)", lazy.toString());
    }

    @Test
    void equality_comparesKindTargetAndLabel() {
        Op.Target t = new Op.Target(7, "m");
        assertNotEquals(Op.of(LOCK, t), Op.of(LOCK, new Op.Target(8, "m")));
        assertNotEquals(Op.of(LOCK, t), new Op(LOCK, t, "mutex_lock(m) at 0x1000"));
        assertNotEquals(Op.of(LOCK, t), Op.of(new Op.Kind("mutex_unlock", Op.Access.WRITE), t));
    }
}
