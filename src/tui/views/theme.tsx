import { createContext, useContext, type ReactElement, type ReactNode } from 'react';
import { Box, Text } from 'ink';

/** How the dashboard may draw: with colours or not (NO_COLOR, --no-color), and whether what it shows is stale (daemon unreachable). */
export interface Theme {
  colour: boolean;
  stale: boolean;
}

const ThemeContext = createContext<Theme>({ colour: true, stale: false });

/** Provides the theme to every pane. */
export const ThemeProvider = ThemeContext.Provider;

/** A colour as the theme allows it: none without colours, grey for everything while stale. */
export function useTint(): (colour: string | undefined) => string | undefined {
  const theme = useContext(ThemeContext);
  return (colour) => (!theme.colour ? undefined : theme.stale ? 'gray' : colour);
}

/** The theme in force. */
export function useTheme(): Theme {
  return useContext(ThemeContext);
}

/**
 * A bordered pane with a title. Focus is marked without colour too (`▶` before the title), and a
 * pane whose data may be out of date while the daemon is unreachable says so and is greyed.
 */
export function Pane({ title, focused, width, height, children }: { title: string; focused: boolean; width?: number; height: number; children: ReactNode }): ReactElement {
  const tint = useTint();
  const { stale } = useTheme();
  return (
    <Box flexDirection="column" borderStyle={focused ? 'bold' : 'single'} borderColor={tint(focused ? 'cyan' : 'gray')} borderDimColor={stale} width={width} height={height} overflow="hidden">
      {/* The title stays when the content is taller than the pane: the content is cut instead. */}
      <Box flexShrink={0}>
        <Text bold color={tint(focused ? 'cyan' : undefined)} dimColor={stale} wrap="truncate">
          {`${focused ? '▶ ' : ''}${title}${stale ? ' (stale)' : ''}`}
        </Text>
      </Box>
      {children}
    </Box>
  );
}

/** A line of text in a pane: coloured as the theme allows, dimmed while stale. */
export function Line({ colour, inverse, dim, children }: { colour?: string; inverse?: boolean; dim?: boolean; children: ReactNode }): ReactElement {
  const tint = useTint();
  const { stale } = useTheme();
  return (
    <Text color={tint(colour)} inverse={inverse} dimColor={dim || stale}>
      {children}
    </Text>
  );
}
