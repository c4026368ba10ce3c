package hmm4j.check.lifetime;

import hmm4j.sim.Kernel;
import hmm4j.sim.sync.Cell;

/** A model object with one field, read and written through checked accessors. */
final class Buffer extends KObject {
    private final Cell<Integer> value;

    Buffer(Kernel kernel, String name) {
        super(kernel, name);
        this.value = new Cell<>(kernel, name + "->value", 0);
    }

    int value() {
        checkAccess("read " + name() + "->value");
        return value.readOnce();
    }

    void setValue(int v) {
        checkAccess("write " + name() + "->value");
        value.writeOnce(v);
    }
}
