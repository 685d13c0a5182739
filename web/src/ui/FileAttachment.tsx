import type { FileInfo } from '../protocol';
import { useClient } from './context';
import { download, isImage, useBlobUrl } from './files';
import { formatBytes } from './format';
import { Icon } from './icons';

/** An attached file: an image preview, or a download button. */
export function FileAttachment({ file }: { file: FileInfo }) {
  const client = useClient();
  const image = isImage(file.mimeType);
  const { src, failed } = useBlobUrl(client, image ? file.url : null);
  if (image && !failed) {
    return (
      <a className="attachment-image" href={src ?? '#'} target="_blank" rel="noopener" aria-label={`Open ${file.name}`} data-loading={src ? undefined : 'true'}>
        {src ? <img src={src} alt={file.name} /> : <span className="attachment-placeholder">Loading {file.name}…</span>}
      </a>
    );
  }
  return (
    <button type="button" className="attachment-file" onClick={() => void download(client, file.url, file.name)}>
      <Icon name="file" />
      <span className="attachment-name">{file.name}</span>
      <small>{formatBytes(file.size)}</small>
      <span className="visually-hidden">, download</span>
    </button>
  );
}
