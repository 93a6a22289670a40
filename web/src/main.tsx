import { render } from 'preact';
import { App } from './app.js';
import { Landing } from './screens/landing.js';
import './styles.css';

document.title = 'Dossier gateway · 电子卷宗';
const link = /^\/d\/([A-Za-z0-9._~-]+)\/?$/.exec(location.pathname);
render(link ? <Landing token={link[1]!} /> : <App />, document.getElementById('app')!);
