package hmm4j.cli;

import hmm4j.explore.strategy.StrategySpec;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** Reads {@code --strategy}: {@code random}, {@code pct[:D]}, {@code pos}, {@code dfs[:K]} or {@code portfolio}. */
final class StrategyConverter implements ITypeConverter<StrategySpec> {
    @Override
    public StrategySpec convert(String value) {
        try {
            return StrategySpec.parse(value);
        } catch (IllegalArgumentException e) {
            throw new TypeConversionException(e.getMessage());
        }
    }
}
